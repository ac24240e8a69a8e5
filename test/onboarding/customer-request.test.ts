import { describe, expect, it } from 'vitest';
import { customerKeyOf, loginOf, parseCustomerRequest } from '../../src/onboarding/customer-request.js';

describe('the customer request shared by every producer', () => {
  it('accepts the CSV fields, trims them and treats empty cells as absent', () => {
    const parsed = parseCustomerRequest({ name: ' Acme GmbH ', email: 'it@acme.example', edition: '', activation: 'password', login: '' });
    expect(parsed).toEqual({ ok: true, request: { name: 'Acme GmbH', email: 'it@acme.example', activation: 'password' } });
  });

  it('names each bad field with a reason', () => {
    const parsed = parseCustomerRequest({ name: '', email: 'not-an-email', edition: 'pck_per_gigabite', login: 'ab', colour: 'red' });
    expect(parsed.ok).toBe(false);
    const problems = parsed.ok ? [] : parsed.problems;
    expect(problems.map((p) => p.field).sort()).toEqual(['(customer)', 'edition', 'email', 'login', 'name']);
    expect(problems.find((p) => p.field === 'edition')?.reason).toContain('pck_per_workload or pck_per_gigabyte');
    expect(problems.find((p) => p.field === '(customer)')?.reason).toContain('colour');
  });

  it('keys a customer by external id, else by its normalised name; logs in by login, else e-mail', () => {
    expect(customerKeyOf({ name: 'Acme', external_id: 'crm-7' })).toBe('crm-7');
    expect(customerKeyOf({ name: '  Müller   IT  GmbH ' })).toBe(customerKeyOf({ name: 'muller it gmbh' }));
    expect(loginOf({ email: 'a@b.example' })).toBe('a@b.example');
    expect(loginOf({ email: 'a@b.example', login: 'acme.admin' })).toBe('acme.admin');
  });
});

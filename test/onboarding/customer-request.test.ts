import { describe, expect, it } from 'vitest';
import {
  customerKeyOf,
  loginOf,
  parseCustomerRequest,
  problemsWithProfile,
} from '../../src/onboarding/customer-request.js';
import { STANDARD_PROFILE } from '../../src/onboarding/profile.js';
import { isValidLogin } from '../../src/simulator/routes/users.js';

describe('the customer request shared by every producer', () => {
  it('accepts the CSV fields, trims them and treats empty cells as absent', () => {
    const parsed = parseCustomerRequest({
      name: ' Acme GmbH ',
      email: 'it@acme.example',
      edition: '',
      activation: 'password',
      login: '',
    });
    expect(parsed).toEqual({
      ok: true,
      request: { name: 'Acme GmbH', email: 'it@acme.example', activation: 'password' },
    });
  });

  it('names each bad field with a reason', () => {
    const parsed = parseCustomerRequest({
      name: '',
      email: 'not-an-email',
      edition: 'pck_per_gigabite',
      login: 'ab',
      colour: 'red',
    });
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

  it('refuses what the API would refuse later: over-long or multi-line names, over-long e-mails and logins, weak passwords', () => {
    const problems = (value: Record<string, string>) => {
      const parsed = parseCustomerRequest({ name: 'Acme', email: 'it@acme.example', ...value });
      return parsed.ok ? [] : parsed.problems.map((p) => `${p.field}: ${p.reason}`);
    };
    expect(problems({ name: 'x'.repeat(255) })).toEqual([]);
    expect(problems({ name: 'x'.repeat(256) })).toEqual(['name: is longer than 255 characters']);
    expect(problems({ name: 'Acme\nGmbH' })).toEqual([
      'name: must be one line of text (no line breaks, tabs or other control characters)',
    ]);
    expect(problems({ name: 'Acme\tGmbH' })).toHaveLength(1);
    expect(problems({ last_name: 'Doe\r\nSmith' })).toEqual([
      'last_name: must be one line of text (no line breaks, tabs or other control characters)',
    ]);
    expect(problems({ email: `${'a'.repeat(243)}@acme.example` })).toEqual(['email: is longer than 254 characters']);
    expect(problems({ login: 'a'.repeat(255) })).toEqual([]);
    expect(problems({ login: 'a'.repeat(256) })).toEqual(['login: is longer than 255 characters']);
    expect(problems({ password: 'Str0ng-Passw0rd!' })).toEqual([]);
    expect(problems({ password: 'Short1!' })).toEqual(['password: must be at least 8 characters']);
    expect(problems({ password: 'alllowercase' })[0]).toContain('too simple');
    expect(problems({ password: 'Sunflower7' })).toEqual([]);
    expect(problems({ password: 'Password1' })[0]).toContain('too simple');
    expect(problems({ password: 'password1' })[0]).toContain('too simple');
    expect(problems({ login: 'acme.admin', password: 'My-acme.admin-1' })).toEqual([
      'password: must not contain the login',
    ]);
    expect(problems({ password: 'X-it@acme.example-1' })).toEqual(['password: must not contain the login']);
  });

  it('refuses what would drive a terminal or reorder text: C1 controls and bidi overrides in names, controls in passwords', () => {
    const problems = (value: Record<string, string>) => {
      const parsed = parseCustomerRequest({ name: 'Acme', email: 'it@acme.example', ...value });
      return parsed.ok ? [] : parsed.problems.map((p) => `${p.field}: ${p.reason}`);
    };
    expect(problems({ name: 'Acme\u009b2J GmbH' })).toEqual([
      'name: must be one line of text (no line breaks, tabs or other control characters)',
    ]);
    expect(problems({ name: 'Acme \u202eHbmG' })).toEqual([
      expect.stringMatching(/^name: must not hold bidirectional/),
    ]);
    expect(problems({ first_name: 'Ada\u2066x\u2069' })).toHaveLength(1);
    expect(problems({ external_id: 'crm-\u202e1' })).toHaveLength(1);
    expect(problems({ password: 'Str0ng-Pass\u001b[2J\u0007' })).toEqual([
      'password: must not hold control characters',
    ]);
    expect(problems({ password: 'Str0ng-Pass\u009b1' })).toEqual(['password: must not hold control characters']);
    expect(problems({ name: 'Café Lumière SARL — 東京 🚀', password: 'Str0ng-Pässwört!' })).toEqual([]);
  });

  it('accepts no login the simulator refuses, and no e-mail that would be a refused login', () => {
    const logins = [
      'ab',
      'abc',
      'a b c',
      'ümlaut',
      'tab\there',
      'x'.repeat(255),
      'x'.repeat(256),
      "o'brien",
      'semi;colon',
      'a,b',
      'pipe|d',
      'ok.name+tag@x.example',
      '<html>',
    ];
    for (const login of logins) {
      const parsed = parseCustomerRequest({ name: 'Acme', email: 'it@acme.example', login });
      if (parsed.ok) expect(isValidLogin(loginOf(parsed.request)), `login ${JSON.stringify(login)}`).toBe(true);
    }
    const emails = [
      'it@acme.example',
      "o'brien+tag@acme.example",
      'a~b@acme.example',
      'a&b@acme.example',
      'müller@acme.example',
      `${'a'.repeat(240)}@acme.example`,
    ];
    for (const email of emails) {
      const parsed = parseCustomerRequest({ name: 'Acme', email });
      if (parsed.ok) expect(isValidLogin(loginOf(parsed.request)), `e-mail ${email} as login`).toBe(true);
    }
  });

  it("checks a request against the profile it is queued with: only the profile's editions", () => {
    const parsed = parseCustomerRequest({ name: 'Acme', email: 'it@acme.example', edition: 'pck_per_gigabyte' });
    if (!parsed.ok) throw new Error('valid request refused');
    expect(problemsWithProfile(parsed.request, STANDARD_PROFILE)).toEqual([
      { field: 'edition', reason: 'is not offered by the profile (its editions: pck_per_workload)' },
    ]);
    expect(
      problemsWithProfile(parsed.request, { ...STANDARD_PROFILE, editions: ['pck_per_workload', 'pck_per_gigabyte'] }),
    ).toEqual([]);
    // A template profile copies the template's items: the request's edition is not used.
    expect(
      problemsWithProfile(parsed.request, {
        ...STANDARD_PROFILE,
        template_tenant_id: '6a0c3b4e-1f2a-4c5d-8e9f-0a1b2c3d4e5f',
      }),
    ).toEqual([]);
  });
});

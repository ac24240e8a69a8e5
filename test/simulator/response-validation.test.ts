import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateRequestBody, validateResponseBody } from '../../src/simulator/openapi.js';
import { simulatorApi, startTestSimulator, type RunningSimulator } from '../helpers/simulator.js';

describe('OAS validation (the checker itself)', () => {
  it('flags bodies that break the response schema, nullable fields included', () => {
    const pricing = { mode: 'trial', currency: null, version: 1, production_start_date: null };
    expect(validateResponseBody('GET /tenants/{tenant_id}/pricing', 200, pricing)).toEqual([]);
    expect(validateResponseBody('GET /tenants/{tenant_id}/pricing', 200, { ...pricing, mode: 'free' })).toEqual([
      expect.stringContaining("'mode' must be one of"),
    ]);
    expect(validateResponseBody('GET /tenants/{tenant_id}/pricing', 200, { ...pricing, currency: 'XXX' })).not.toEqual(
      [],
    );
    expect(validateResponseBody('GET /tenants/{tenant_id}/pricing', 200, { mode: 'trial' })).toEqual(
      expect.arrayContaining([expect.stringContaining("required property 'version'")]),
    );
    // A status the OAS does not document for a success is a violation; error statuses fall back to errorScheme.
    expect(validateResponseBody('POST /tenants', 200, {})).toEqual(['status 200 is not documented for POST /tenants']);
    expect(
      validateResponseBody('POST /tenants', 409, {
        error: { code: 1004, domain: 'PlatformAccountServer', message: 'x', details: { info: null }, context: {} },
      }),
    ).toEqual([]);
    expect(validateResponseBody('POST /tenants', 409, { error: 'conflict' })).not.toEqual([]);
  });

  it('names the property and the reason for request bodies', () => {
    expect(
      validateRequestBody('POST /users', { tenant_id: 'x', login: 'a', contact: { email: 'a@b.c' }, foo: 1 }),
    ).toEqual(["body must NOT have additional property 'foo'"]);
    expect(
      validateRequestBody('PUT /tenants/{tenant_id}/offering_items', {
        offering_items: [{ application_id: 'x', name: 'y', status: 2 }],
      }),
    ).toEqual(expect.arrayContaining([expect.stringContaining("'offering_items.0.status' must be one of 0, 1")]));
  });
});

describe('validateResponses over HTTP', () => {
  let sim: RunningSimulator;
  beforeAll(async () => {
    sim = await startTestSimulator({ validateResponses: true });
  });
  afterAll(async () => {
    await sim.close();
  });

  it('records a response that departs from the OAS: a contact `types` string, which `userPost` leaves open and `user` requires as an array', async () => {
    const api = simulatorApi(sim);
    const res = await api.post('/users', {
      tenant_id: sim.seed.partnerTenantId,
      login: 'typed-contact',
      contact: { email: 'typed@contact.example', types: 'billing' },
    });
    expect(res.status, res.text).toBe(200);
    expect(sim.stats().responseViolations).toEqual([
      { endpoint: 'POST /users', status: 200, errors: ["'contact.types' must be array"] },
    ]);
  });
});

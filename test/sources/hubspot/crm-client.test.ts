import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceApiError, type SourceEvent } from '../../../src/sources/kind.js';
import { hubspotKind } from '../../../src/sources/hubspot/kind.js';
import { startHubSpotSimulator, type HubSpotSimulator } from '../../../src/simulator/hubspot/index.js';
import { hubspotContext } from './context.js';

let sim: HubSpotSimulator;

beforeAll(async () => {
  sim = await startHubSpotSimulator({ rateLimit: { max: 1000, windowMs: 10_000 } });
  sim.defineCompanyProperties('acronis_tenant_id', 'acronis_admin_login', 'acronis_state');
});
afterAll(async () => sim.close());

function ctxFor(target: HubSpotSimulator, settings: Record<string, unknown> = {}, token = target.accessToken) {
  return hubspotContext({
    settings: { api_base_url: target.url, ...settings },
    secrets: { HUBSPOT_CLIENT_SECRET: target.clientSecret, HUBSPOT_TOKEN: token },
  });
}

const dealEvent = (dealId: string): SourceEvent => ({
  eventId: `1-${dealId}`,
  type: 'deal.propertyChange',
  objectType: 'deal',
  objectId: dealId,
  payload: { propertyName: 'dealstage', propertyValue: 'closedwon', portalId: '62515' },
});

async function refusal(promise: Promise<unknown>): Promise<SourceApiError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceApiError);
  return error as SourceApiError;
}

describe('HubSpot read-back over HTTP (simulated HubSpot)', () => {
  it('reads the deal, its company and contact, and its line items with quantity and product SKU', async () => {
    const seeded = sim.seedDeal({
      deal: { dealstage: 'closedwon', amount: '2400' },
      company: { name: 'Müller GmbH', country: 'Germany' },
      contact: { email: 'it@mueller.example', firstname: 'Jana' },
      lineItems: [
        { sku: 'ACR-BKP-WS', name: 'Workstation backup', quantity: 25 },
        { sku: 'ACR-BKP-SRV', name: 'Server backup', quantity: 3 },
      ],
    });
    const record = await hubspotKind.readBack(dealEvent(seeded.dealId), ctxFor(sim, { read: { line_items: true } }));
    expect(record.writeBackTarget).toEqual({ objectType: 'company', objectId: seeded.companyId });
    expect(record.fields).toMatchObject({
      'event.propertyValue': 'closedwon',
      'deal.id': seeded.dealId,
      'deal.dealstage': 'closedwon',
      'deal.amount': '2400',
      'company.name': 'Müller GmbH',
      'company.country': 'Germany',
      'contact.email': 'it@mueller.example',
      'contact.firstname': 'Jana',
    });
    expect(record.fields.line_items).toEqual([
      { sku: 'ACR-BKP-WS', name: 'Workstation backup', quantity: 25 },
      { sku: 'ACR-BKP-SRV', name: 'Server backup', quantity: 3 },
    ]);
    expect(record.fields['line_items[].sku']).toEqual(['ACR-BKP-WS', 'ACR-BKP-SRV']);
    expect(record.fields['line_items[].quantity']).toEqual([25, 3]);
  });

  it('a deal with no company gives its fields and no write-back target (the mapping rejects it with a reason)', async () => {
    const dealId = sim.create('deals', { dealname: 'Orphan', dealstage: 'closedwon' });
    const record = await hubspotKind.readBack(dealEvent(dealId), ctxFor(sim));
    expect(record.writeBackTarget).toBeUndefined();
    expect(record.fields['deal.dealname']).toBe('Orphan');
    expect(record.fields['company.name']).toBeUndefined();
  });

  it('a deleted deal is a 404: not retryable, and says so', async () => {
    const error = await refusal(hubspotKind.readBack(dealEvent('99999999'), ctxFor(sim)));
    expect({ status: error.status, retryable: error.retryable }).toEqual({ status: 404, retryable: false });
    expect(error.endpoint).toBe('GET /crm/v3/objects/deals/{id}');
  });

  it('a revoked token is a 401 that names the variable, never the token', async () => {
    const error = await refusal(hubspotKind.checkApi(ctxFor(sim, {}, 'pat-na1-revoked')));
    expect({ status: error.status, retryable: error.retryable }).toEqual({ status: 401, retryable: false });
    expect(error.message).toContain('HUBSPOT_TOKEN');
    expect(error.message).not.toContain('pat-na1-revoked');
  });

  it('a 5xx is retryable, and the next call goes through', async () => {
    sim.failNext(503);
    const error = await refusal(hubspotKind.checkApi(ctxFor(sim)));
    expect({ status: error.status, retryable: error.retryable }).toEqual({ status: 503, retryable: true });
    await expect(hubspotKind.checkApi(ctxFor(sim))).resolves.toBeUndefined();
  });

  it('waits for the source rate limit before every call', async () => {
    let acquired = 0;
    const seeded = sim.seedDeal();
    const ctx = { ...ctxFor(sim), acquire: async () => void (acquired += 1) };
    await hubspotKind.readBack(dealEvent(seeded.dealId), ctx);
    // deal, then company and contact
    expect(acquired).toBe(3);
  });
});

describe('HubSpot rate limit (simulated, 5 requests per rolling 10 s)', () => {
  it('answers 429 with HubSpot body and headers over the limit; the client classifies it retryable with the wait', async () => {
    const small = await startHubSpotSimulator({ rateLimit: { max: 5, windowMs: 10_000 } });
    try {
      const ctx = ctxFor(small);
      for (let i = 0; i < 5; i += 1) await hubspotKind.checkApi(ctx);
      const error = await refusal(hubspotKind.checkApi(ctx));
      expect({ status: error.status, retryable: error.retryable, wait: error.retryAfterSec }).toEqual({
        status: 429,
        retryable: true,
        wait: 10,
      });
      expect(error.message).toContain('TEN_SECONDLY_ROLLING');
      expect({ peak: small.window.peak, refused: small.window.refused }).toEqual({ peak: 5, refused: 1 });

      const raw = await fetch(`${small.url}/crm/v3/objects/companies`, {
        headers: { authorization: `Bearer ${small.accessToken}` },
      });
      expect(raw.status).toBe(429);
      expect(raw.headers.get('x-hubspot-ratelimit-max')).toBe('5');
      expect(await raw.json()).toMatchObject({
        status: 'error',
        errorType: 'RATE_LIMIT',
        policyName: 'TEN_SECONDLY_ROLLING',
      });
    } finally {
      await small.close();
    }
  });
});

describe('HubSpot write-back to company properties', () => {
  it('writes tenant id, admin login and state once; the same result again writes nothing', async () => {
    const { companyId } = sim.seedDeal();
    const target = { objectType: 'company', objectId: companyId };
    const result = { state: 'done' as const, tenantId: 'a1b2c3', adminLogin: 'jana.admin', customer: 'hubspot-eu:1' };
    const before = sim.store.writeBacks.length;
    await hubspotKind.writeBack(target, result, ctxFor(sim));
    await hubspotKind.writeBack(target, result, ctxFor(sim));
    const writes = sim.store.writeBacks.slice(before);
    expect(writes).toHaveLength(1);
    expect(writes[0]!.properties).toEqual({
      acronis_state: 'done',
      acronis_tenant_id: 'a1b2c3',
      acronis_admin_login: 'jana.admin',
    });
    expect(sim.store.get('companies', companyId)!.properties).toMatchObject({ acronis_tenant_id: 'a1b2c3' });
  });

  it('a property not created in HubSpot is a 400 that names it, not retried', async () => {
    const { companyId } = sim.seedDeal();
    const ctx = ctxFor(sim, { write_back: { reason_property: 'acronis_reason' } });
    const error = await refusal(
      hubspotKind.writeBack(
        { objectType: 'company', objectId: companyId },
        { state: 'failed', reason: 'quota', customer: 'c' },
        ctx,
      ),
    );
    expect({ status: error.status, retryable: error.retryable }).toEqual({ status: 400, retryable: false });
    expect(error.message).toContain('acronis_reason');
  });
});

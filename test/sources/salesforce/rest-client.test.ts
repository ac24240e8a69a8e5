import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SourceApiError, type SourceEvent } from '../../../src/sources/kind.js';
import { salesforceKind } from '../../../src/sources/salesforce/kind.js';
import { startSalesforceSimulator, type SalesforceSimulator } from '../../../src/simulator/salesforce/index.js';
import { salesforceContext } from './context.js';

let sim: SalesforceSimulator;

beforeAll(async () => {
  sim = await startSalesforceSimulator();
  sim.defineAccountFields('Acronis_Tenant_Id__c', 'Acronis_Admin_Login__c', 'Acronis_State__c');
});
afterAll(async () => sim.close());

/** Each context its own source name, so each starts without a cached token. */
function ctxFor(settings: Record<string, unknown> = {}, secret = sim.clientSecret, calls?: { n: number }) {
  return salesforceContext({
    source: `sf-${randomUUID().slice(0, 8)}`,
    settings: { organization_id: sim.organizationId, instance_url: sim.url, ...settings },
    secrets: { SF_CLIENT_ID: sim.clientId, SF_CLIENT_SECRET: secret },
    ...(calls ? { acquire: async () => void (calls.n += 1) } : {}),
  });
}

const opportunityEvent = (id: string): SourceEvent => ({
  eventId: `04l${id.slice(3)}`,
  type: 'Opportunity',
  objectType: 'opportunity',
  objectId: id,
  payload: { organizationId: sim.organizationId, actionId: '04k000000000001AAA', fields: { Id: id, IsWon: 'true' } },
});

async function refusal(promise: Promise<unknown>): Promise<SourceApiError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceApiError);
  return error as SourceApiError;
}

describe('Salesforce read-back over HTTP (simulated org)', () => {
  it('reads the opportunity, its account, the first contact and the products, each call through the rate limit', async () => {
    const seeded = sim.seedOpportunity({
      account: { Name: 'Müller GmbH', BillingCountry: 'Germany' },
      contact: { Email: 'it@mueller.example', FirstName: 'Jana' },
      opportunity: { StageName: 'Closed Won', IsWon: true, Amount: 2400 },
      lineItems: [
        { productCode: 'ACR-WS', name: 'Workstation', quantity: 25 },
        { productCode: 'ACR-SRV', name: 'Server', quantity: 3 },
      ],
    });
    const calls = { n: 0 };
    const record = await salesforceKind.readBack(
      opportunityEvent(seeded.opportunityId),
      ctxFor({ read: { line_items: true } }, sim.clientSecret, calls),
    );
    expect(record.writeBackTarget).toEqual({ objectType: 'account', objectId: seeded.accountId });
    expect(record.fields).toMatchObject({
      'notification.IsWon': 'true',
      'opportunity.IsWon': true,
      'opportunity.Amount': 2400,
      'account.Name': 'Müller GmbH',
      'account.BillingCountry': 'Germany',
      'contact.Email': 'it@mueller.example',
      'contact.FirstName': 'Jana',
      'line_items[].product_code': ['ACR-WS', 'ACR-SRV'],
      'line_items[].quantity': [25, 3],
    });
    // token, opportunity, products, account, contact
    expect(calls.n).toBe(5);
  });

  it('a token Salesforce no longer takes (INVALID_SESSION_ID) is fetched again once, and the read goes on', async () => {
    const seeded = sim.seedOpportunity();
    const ctx = ctxFor();
    await salesforceKind.readBack(opportunityEvent(seeded.opportunityId), ctx);
    sim.expireTokens();
    const record = await salesforceKind.readBack(opportunityEvent(seeded.opportunityId), ctx);
    expect(record.fields['account.Name']).toBe('Example Co');
  });

  it('refusals are decided once: wrong client secret, no such record, the API limit and 503', async () => {
    const wrong = await refusal(salesforceKind.checkApi(ctxFor({}, 'guessed')));
    expect(wrong).toMatchObject({ retryable: false, status: 400, endpoint: 'POST /services/oauth2/token' });
    expect(wrong.message).toContain('invalid_client');
    expect(wrong.message).not.toContain('guessed');

    const missing = await refusal(salesforceKind.readBack(opportunityEvent('006000000000000AAA'), ctxFor()));
    expect(missing).toMatchObject({ retryable: false, status: 404 });
    expect(missing.message).toContain('NOT_FOUND');

    sim.failNext(503);
    expect(await refusal(salesforceKind.checkApi(ctxFor()))).toMatchObject({ retryable: true, status: 503 });

    const ctx = ctxFor();
    await salesforceKind.checkApi(ctx);
    const { max, used } = sim.apiLimit;
    sim.apiLimit.used = max;
    const limited = await refusal(salesforceKind.checkApi(ctx));
    sim.apiLimit.used = used;
    expect(limited).toMatchObject({ retryable: true, status: 403 });
    expect(limited.message).toContain('REQUEST_LIMIT_EXCEEDED');
  });
});

describe('Salesforce write-back over HTTP (simulated org)', () => {
  const result = { state: 'done' as const, tenantId: 't-1', adminLogin: 'jana', customer: 'salesforce:006' };

  it('PATCHes the Account fields once; the same result again writes nothing', async () => {
    const { accountId } = sim.seedOpportunity();
    const ctx = ctxFor();
    await salesforceKind.writeBack({ objectType: 'account', objectId: accountId }, result, ctx);
    await salesforceKind.writeBack({ objectType: 'account', objectId: accountId }, result, ctx);
    expect(sim.store.accountWrites.filter((w) => w.accountId === accountId)).toEqual([
      expect.objectContaining({
        fields: { Acronis_State__c: 'done', Acronis_Tenant_Id__c: 't-1', Acronis_Admin_Login__c: 'jana' },
      }),
    ]);
  });

  it('a field not created in the org is refused for good, naming it', async () => {
    const { accountId } = sim.seedOpportunity();
    const ctx = ctxFor({ write_back: { reason_field: 'Acronis_Reason__c' } });
    const error = await refusal(salesforceKind.writeBack({ objectType: 'account', objectId: accountId }, result, ctx));
    expect(error).toMatchObject({ retryable: false, status: 400 });
    expect(error.message).toContain('Acronis_Reason__c');
  });
});

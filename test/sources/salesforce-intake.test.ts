import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSalesforceSimulator, type SalesforceSimulator } from '../../src/simulator/salesforce/index.js';
import { outboundMessageXml, type OutboundSender } from '../../src/simulator/salesforce/outbound-sender.js';
import { wonOpportunitySource } from '../../src/simulator/salesforce/source-file.js';
import { eventHashOf, SourceIntakeStore, type StoredEvent } from '../../src/sources/intake-store.js';
import { waitForActions } from '../helpers/lifecycle.js';
import { expectEachOnboardedOnce } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import { startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

/**
 * Salesforce end to end: the simulated org's own outbound messages (SOAP, batches of
 * notifications) into `POST /webhooks/sources/salesforce`, each notification recorded before the
 * SOAP acknowledgement goes back, read back through the REST API with a client credentials token,
 * onboarded on the Acronis simulator by real workers, and the tenant written to the Account;
 * Salesforce's resend of the same notifications and a second win onboard nothing twice;
 * messages from another org, not outbound messages, or declaring a DOCTYPE are refused.
 */

const tag = randomUUID().slice(0, 8).toUpperCase();
const env = (name: string) => `I23_SALESFORCE_${name}_${tag}`;
const clientId = `3MVG9${randomBytes(20).toString('hex')}`;
const clientSecret = randomBytes(32).toString('hex');
const urlToken = randomBytes(16).toString('base64url');
process.env[env('CLIENT_ID')] = clientId;
process.env[env('CLIENT_SECRET')] = clientSecret;
process.env[env('URL_TOKEN')] = urlToken;

let salesforce: SalesforceSimulator;
let h: WebhookHarness;
let store: SourceIntakeStore;
let sender: OutboundSender;
let targetUrl: string;

const WRITE_BACK_FIELDS = ['Acronis_Tenant_Id__c', 'Acronis_Admin_Login__c', 'Acronis_State__c'];

function sourceFiles(instanceUrl: string, organizationId: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'i23-salesforce-'));
  const credentials = { clientId: env('CLIENT_ID'), clientSecret: env('CLIENT_SECRET') };
  const lost = { event_types: ['Opportunity'], all: [{ field: 'opportunity.StageName', equals: ['Closed Lost'] }] };
  const source = {
    ...wonOpportunitySource(instanceUrl, organizationId, credentials),
    rate_limit: { per_second: 50 },
    actions: { suspend: lost },
  };
  writeFileSync(join(dir, 'salesforce.json'), JSON.stringify(source));
  const tokened = wonOpportunitySource(instanceUrl, organizationId, { ...credentials, urlToken: env('URL_TOKEN') });
  writeFileSync(join(dir, 'salesforce-token.json'), JSON.stringify(tokened));
  return dir;
}

beforeAll(async () => {
  salesforce = await startSalesforceSimulator({ clientId, clientSecret });
  salesforce.defineAccountFields(...WRITE_BACK_FIELDS);
  h = await startWebhookHarness({
    label: 'salesforce-intake',
    env: { SOURCES_DIR: sourceFiles(salesforce.url, salesforce.organizationId) },
    sources: { writeBackRecheckMs: 200 },
  });
  targetUrl = `${h.url}/webhooks/sources/salesforce`;
  sender = salesforce.setOutbound({ targetUrl, firstRetryMs: 100, maxRetryMs: 400 });
  store = new SourceIntakeStore(h.t.redis, h.t.pipeline.keys);
  await h.t.startWorkers();
});

afterAll(async () => {
  await salesforce?.close();
  await h?.close();
});

async function settled(eventId: string, source = 'salesforce'): Promise<StoredEvent> {
  let event: StoredEvent | undefined;
  await until(async () => {
    event = await store.event(source, eventHashOf(eventId));
    return event !== undefined && event.outcome !== 'received';
  }, `Salesforce notification ${eventId} of ${source} to be settled`);
  return event as StoredEvent;
}

/** Waits for the simulated org to have its message acknowledged, then for the notification's outcome. */
async function settledAfter(notificationId: string): Promise<StoredEvent> {
  await sender.settled();
  return settled(notificationId);
}

const total = async (source = 'salesforce') =>
  Object.values(await store.outcomeCounts(source)).reduce((a, b) => a + b, 0);

describe('Salesforce opportunity won, end to end', () => {
  let opportunityId: string;
  let accountId: string;
  let notificationId: string;

  it('the outbound message is acknowledged, onboards the account once with the product as a hard quota, and is written back', async () => {
    ({ opportunityId, accountId } = salesforce.seedOpportunity({
      account: { Name: `Müller & Söhne ${tag} GmbH` },
      contact: { Email: `it@mueller-${tag.toLowerCase()}.example`, FirstName: 'Jana', LastName: 'Müller' },
      lineItems: [{ productCode: 'ACR-CP-WS', name: 'Cyber Protect workstation', quantity: 12 }],
    }));
    notificationId = salesforce.winOpportunity(opportunityId).id;
    await sender.settled();
    const sent = sender.attempts.at(-1)!;
    expect(sent).toMatchObject({ status: 200, acknowledged: true, notificationIds: [notificationId] });
    expect(sent.answer).toContain('<Ack>true</Ack>');

    const event = await settled(notificationId);
    expect(event).toMatchObject({ outcome: 'onboarding', customer: `salesforce:${opportunityId}` });
    await h.t.waitForBatch(event.batchId as string);
    const email = `it@mueller-${tag.toLowerCase()}.example`;
    const { tenant, user } = expectEachOnboardedOnce(h.t.sim.state(), [
      { name: `Müller & Söhne ${tag} GmbH`, email, external_id: `salesforce:${opportunityId}` },
    ])[0]!;
    const workstations = h.t.sim.state().offeringItems[tenant.id]!.find((i) => i.name === 'pw_base_workstations');
    expect(workstations?.quota).toMatchObject({ value: 12 });

    await until(
      async () => (await store.writeBack(`salesforce:${opportunityId}`))?.state === 'written',
      'the write-back',
    );
    expect(salesforce.store.get('Account', accountId)).toMatchObject({
      Acronis_Tenant_Id__c: tenant.id,
      Acronis_Admin_Login__c: user.login,
      Acronis_State__c: 'done',
    });
    expect(salesforce.store.accountWrites.filter((w) => w.accountId === accountId)).toHaveLength(1);
  });

  it("Salesforce's resend of the same notification, and the opportunity won again, onboard nothing twice", async () => {
    const before = await total();
    const resent = JSON.parse(JSON.stringify(sender.attempts.at(-1)!)) as { notificationIds: string[] };
    sender.redeliver([
      { id: resent.notificationIds[0]!, sObjectType: 'Opportunity', fields: { Id: opportunityId, IsWon: true } },
    ]);
    await sender.settled();
    expect(sender.attempts.at(-1)).toMatchObject({
      status: 200,
      acknowledged: true,
      notificationIds: [notificationId],
    });
    expect(await total()).toBe(before);

    // A session timeout in between: the source fetches a new token and reads on.
    salesforce.expireTokens();
    const again = salesforce.winOpportunity(opportunityId).id;
    await sender.settled();
    const second = await settled(again);
    expect(second.outcome).toBe('onboarding');
    expect(['already-onboarded', 'already-queued']).toContain(second.enqueued);
    expect(h.t.sim.state().tenants.filter((t) => t.customer_id === `salesforce:${opportunityId}`)).toHaveLength(1);
  });
});

describe('Salesforce opportunity lost after it was won', () => {
  it("the lost opportunity's message (a second rule) suspends the tenant, asked by the notification", async () => {
    const { opportunityId } = salesforce.seedOpportunity({
      account: { Name: `Lost ${tag} GmbH` },
      contact: { Email: `it@lost-${tag.toLowerCase()}.example` },
    });
    const key = `salesforce:${opportunityId}`;
    const won = await settledAfter(salesforce.winOpportunity(opportunityId).id);
    expect(won).toMatchObject({ outcome: 'onboarding', customer: key });
    await h.t.waitForBatch(won.batchId as string);

    const lostId = salesforce.moveOpportunity(opportunityId, 'Closed Lost', true)!.id;
    const lost = await settledAfter(lostId);
    expect(lost).toMatchObject({ outcome: 'action', action: 'suspend', customer: key });
    const [action] = await waitForActions(h.t, lost.batchId as string);
    expect(action).toMatchObject({
      action: 'suspend',
      state: 'done',
      requester: `source salesforce event ${lostId}`,
    });
    expect(h.t.sim.state().tenants.find((t) => t.customer_id === key)!.enabled).toBe(false);
  });
});

describe('Salesforce batched notifications', () => {
  it('one message of five notifications: each recorded before the acknowledgement, each with its own outcome', async () => {
    const won = [0, 1].map((i) =>
      salesforce.seedOpportunity({
        account: { Name: `Batch ${i} ${tag} AG` },
        contact: { Email: `ops${i}@batch-${tag.toLowerCase()}.example` },
      }),
    );
    const badEmail = salesforce.seedOpportunity({
      account: { Name: `Bad ${tag}` },
      contact: { Email: 'not-an-email' },
    });
    const open = salesforce.seedOpportunity({ account: { Name: `Open ${tag}` } });
    // Queued in one tick: the simulated org sends them as one message.
    const ids = [
      salesforce.winOpportunity(won[0]!.opportunityId).id,
      salesforce.winOpportunity(won[1]!.opportunityId).id,
      salesforce.winOpportunity(badEmail.opportunityId).id,
      salesforce.moveOpportunity(open.opportunityId, 'Negotiation/Review', true)!.id,
      salesforce.notifyAccount(open.accountId).id,
    ];
    await sender.settled();
    const sent = sender.attempts.at(-1)!;
    expect(sent).toMatchObject({ acknowledged: true, notificationIds: ids });
    // The acknowledgement went only after every notification was recorded.
    for (const id of ids) expect(await store.event('salesforce', eventHashOf(id))).toBeDefined();

    const outcomes = await Promise.all(ids.map((id) => settled(id)));
    expect(outcomes.map((o) => o.outcome)).toEqual(['onboarding', 'onboarding', 'rejected', 'ignored', 'ignored']);
    expect(outcomes[2]!.problems).toEqual([
      { field: 'email', reason: 'is not an e-mail address (from contact.Email)' },
    ]);
    expect(outcomes[3]!.reason).toBe('won is false, not true');
    expect(outcomes[4]!.reason).toContain('Account');
    for (const [i, { opportunityId }] of won.entries()) {
      expect(outcomes[i]).toMatchObject({ customer: `salesforce:${opportunityId}` });
      await h.t.waitForBatch(outcomes[i]!.batchId as string);
      expect(h.t.sim.state().tenants.filter((t) => t.customer_id === `salesforce:${opportunityId}`)).toHaveLength(1);
    }
  });
});

describe('Salesforce forgeries', () => {
  const post = (body: string, url = targetUrl) =>
    fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/xml; charset=utf-8', soapaction: '""' } });
  const opportunity = (id: string) => ({
    id: `04l${id.slice(3)}`,
    sObjectType: 'Opportunity',
    fields: { Id: id, IsWon: true },
  });

  it('another org, a body that is not an outbound message, a DOCTYPE and more than 100 notifications are refused with a SOAP fault, nothing recorded', async () => {
    const before = await store.outcomeCounts('salesforce');
    const seeded = salesforce.seedOpportunity();
    const foreign = outboundMessageXml({ targetUrl, organizationId: `00D${'x'.repeat(15)}` }, [
      opportunity(seeded.opportunityId),
    ]);
    const ours = outboundMessageXml({ targetUrl, organizationId: salesforce.organizationId }, [
      opportunity(seeded.opportunityId),
    ]);
    const doctype = ours.replace(
      '<soapenv:Envelope',
      '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><soapenv:Envelope',
    );
    const many = outboundMessageXml(
      { targetUrl, organizationId: salesforce.organizationId },
      Array.from({ length: 101 }, () => opportunity(seeded.opportunityId)),
    );
    const notOutbound = ours.replace('http://soap.sforce.com/2005/09/outbound', 'urn:partner.soap.sforce.com');
    for (const body of [foreign, notOutbound, doctype, many, '{"OrganizationId": "x"}']) {
      const answer = await post(body);
      expect(answer.status).toBe(401);
      expect(answer.headers.get('content-type')).toContain('text/xml');
      expect(await answer.text()).toContain('<faultcode>soapenv:Client</faultcode>');
    }
    expect(await store.outcomeCounts('salesforce')).toEqual(before);
  });

  it('with url_token_env, the same message without the token is refused and with it acknowledged', async () => {
    const seeded = salesforce.seedOpportunity({
      account: { Name: `Token ${tag}` },
      contact: { Email: `t@token-${tag.toLowerCase()}.example` },
    });
    salesforce.store.update('Opportunity', seeded.opportunityId, { StageName: 'Closed Won', IsWon: true });
    const body = outboundMessageXml({ targetUrl, organizationId: salesforce.organizationId }, [
      opportunity(seeded.opportunityId),
    ]);
    const url = `${h.url}/webhooks/sources/salesforce-token`;
    expect((await post(body, url)).status).toBe(401);
    expect((await post(body, `${url}?token=guessed`)).status).toBe(401);
    expect(await total('salesforce-token')).toBe(0);
    const answer = await post(body, `${url}?token=${urlToken}`);
    expect(answer.status).toBe(200);
    expect(await answer.text()).toContain('<Ack>true</Ack>');
    expect(await settled(opportunity(seeded.opportunityId).id, 'salesforce-token')).toMatchObject({
      outcome: 'onboarding',
    });
  });
});

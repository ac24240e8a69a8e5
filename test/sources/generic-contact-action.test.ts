import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventHashOf, SourceIntakeStore, type StoredEvent } from '../../src/sources/intake-store.js';
import { calls, waitForActions } from '../helpers/lifecycle.js';
import { until } from '../helpers/wait.js';
import { startWebhookHarness, type WebhookHarness } from '../helpers/webhook.js';

/**
 * A contact change from a source event, end to end over HTTP: a generic source onboards a customer
 * on `customer.won`, and its `contact.changed` event changes the tenant's contact and the admin
 * user's through the lifecycle's `contact` action; the same change again sends nothing.
 */

const tag = randomUUID().slice(0, 8).toUpperCase();
const tokenEnv = `I22_CRM_TOKEN_${tag}`;
const token = randomBytes(24).toString('base64url');
process.env[tokenEnv] = token;

let h: WebhookHarness;
let store: SourceIntakeStore;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'i22-contact-'));
  const crm = {
    kind: 'generic',
    trigger: { event_types: ['customer.won'], all: [] },
    actions: { contact: { event_types: ['contact.changed'], all: [] } },
    mapping: {
      name: 'company',
      email: 'contact.email',
      first_name: 'contact.first',
      last_name: 'contact.last',
      phone: 'contact.phone',
    },
    settings: { auth: { scheme: 'bearer', token_env: tokenEnv } },
  };
  writeFileSync(join(dir, 'crm.json'), JSON.stringify(crm));
  h = await startWebhookHarness({ label: 'contact-action', env: { SOURCES_DIR: dir } });
  store = new SourceIntakeStore(h.t.redis, h.t.pipeline.keys);
  await h.t.startWorkers();
});
afterAll(async () => {
  await h?.close();
});

/** Sends one event and answers its outcome once the intake settled it. */
async function send(payload: Record<string, unknown>): Promise<StoredEvent> {
  const body = JSON.stringify(payload);
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}`, 'webhook-id': randomUUID() };
  const response = await fetch(`${h.url}/webhooks/sources/crm`, { method: 'POST', body, headers });
  expect(response.status).toBe(202);
  let event: StoredEvent | undefined;
  await until(
    async () => {
      event = await store.event('crm', eventHashOf(`${headers['webhook-id']}#0`));
      return event !== undefined && event.outcome !== 'received';
    },
    `the ${String(payload.type)} event to be settled`,
  );
  return event!;
}

describe('a contact change from a source event', () => {
  const id = `C-${tag}`;
  const key = `crm:${id}`;
  const tenant = () => h.t.sim.state().tenants.find((t) => t.customer_id === key)!;
  const admin = () => h.t.sim.state().users.find((u) => u.tenant_id === tenant().id)!;
  const company = `Contact ${tag} Ltd`;

  it("changes the tenant's contact and the admin user's, and sends nothing for the same change again", async () => {
    const won = await send({
      id,
      type: 'customer.won',
      company,
      contact: { email: `it@${tag.toLowerCase()}.example` },
    });
    expect(won).toMatchObject({ outcome: 'onboarding', customer: key });
    await h.t.waitForBatch(won.batchId as string);

    const change = {
      id,
      type: 'contact.changed',
      company,
      contact: { email: `new@${tag.toLowerCase()}.example`, first: 'Grace', phone: '+44 20 7946 0000' },
    };
    h.t.sim.resetStats();
    const changed = await send(change);
    expect(changed).toMatchObject({ outcome: 'action', action: 'contact', customer: key });
    const [action] = await waitForActions(h.t, changed.batchId as string);
    expect(action, action?.error).toMatchObject({
      state: 'done',
      requesterKind: 'source',
      outcome: 'tenant contact email, firstname, phone changed; admin user contact email, firstname, phone changed',
    });
    expect(tenant().contact).toMatchObject({
      email: change.contact.email,
      firstname: 'Grace',
      phone: change.contact.phone,
    });
    expect(admin().contact).toMatchObject({
      email: change.contact.email,
      firstname: 'Grace',
      phone: change.contact.phone,
    });

    // The sender's next event with the same contact (not a redelivery: another event): looked at, nothing sent.
    h.t.sim.resetStats();
    const again = await send({ ...change, sent: 'again' });
    expect(again).toMatchObject({ outcome: 'action', action: 'contact' });
    const [second] = await waitForActions(h.t, again.batchId as string);
    expect(second!.outcome).toBe('tenant contact as asked already; admin user contact as asked already');
    expect(calls(h.t, 'PUT /tenants/{tenant_id}')).toBe(0);
    expect(calls(h.t, 'PUT /users/{user_id}')).toBe(0);
  });

  it('an event whose mapping gives no contact, or a bad e-mail, is rejected naming the field', async () => {
    const empty = await send({ id, type: 'contact.changed', company });
    expect(empty).toMatchObject({ outcome: 'rejected', problems: [expect.objectContaining({ field: 'contact' })] });
    const bad = await send({ id, type: 'contact.changed', company, contact: { email: 'not-an-address' } });
    expect(bad).toMatchObject({
      outcome: 'rejected',
      problems: [{ field: 'email', reason: 'must be an e-mail address' }],
    });
  });

  it('a contact change for a customer never onboarded is ignored with why', async () => {
    const other = await send({ id: `X-${tag}`, type: 'contact.changed', contact: { first: 'Nobody' } });
    expect(other).toMatchObject({ outcome: 'ignored' });
    expect(other.reason).toBe(
      `the event asks to change the contact of customer crm:X-${tag}, which this install never onboarded`,
    );
  });
});

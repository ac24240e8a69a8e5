import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectwiseKind } from '../../../src/sources/connectwise/kind.js';
import { SourceApiError, type SourceEvent } from '../../../src/sources/kind.js';
import { contextFor, simulatorSettings, startTestConnectWise } from '../../helpers/connectwise.js';

type Sim = Awaited<ReturnType<typeof startTestConnectWise>>;

function agreementAdded(id: number): SourceEvent {
  return {
    eventId: `m-${id}`,
    type: 'agreement/added',
    objectType: 'agreement',
    objectId: String(id),
    payload: { action: 'added', memberId: 'x' },
  };
}

async function refusal(work: Promise<unknown>): Promise<SourceApiError> {
  const error = await work.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceApiError);
  return error as SourceApiError;
}

describe('ConnectWise REST client against the simulated ConnectWise', () => {
  let sim: Sim;
  let companyId: number;

  beforeAll(async () => {
    sim = await startTestConnectWise({ rateLimitPerSecond: null });
    companyId = sim.addCompany({
      identifier: 'Contoso',
      name: 'Contoso Ltd',
      country: 'Germany',
      contact: { firstName: 'Dana', lastName: 'Weber', email: 'dana@contoso.example' },
    }).id;
  });

  afterAll(async () => {
    await sim?.close();
  });

  it('reads an agreement back: company, default contact with e-mail, agreement, additions', async () => {
    const ctx = contextFor(sim, simulatorSettings(sim));
    const { agreement } = sim.addAgreement(companyId, {
      name: 'Cyber Protect',
      type: 'Managed Backup',
      additions: [
        { product: 'ACR-WORKSTATION', quantity: 25 },
        { product: 'ACR-SERVER', quantity: 3 },
      ],
    });
    const record = await connectwiseKind.readBack(agreementAdded(agreement.id), ctx);
    expect(record.writeBackTarget).toEqual({ objectType: 'company', objectId: String(companyId) });
    expect(record.fields).toMatchObject({
      'callback.type': 'agreement',
      'callback.action': 'added',
      'company.name': 'Contoso Ltd',
      'company.identifier': 'Contoso',
      'company.country': 'Germany',
      'contact.email': 'dana@contoso.example',
      'contact.firstName': 'Dana',
      'agreement.name': 'Cyber Protect',
      'agreement.type': 'Managed Backup',
      additions: [
        { product: 'ACR-WORKSTATION', quantity: 25 },
        { product: 'ACR-SERVER', quantity: 3 },
      ],
    });
  });

  it('reads a won opportunity back', async () => {
    const ctx = contextFor(sim, simulatorSettings(sim));
    const opportunity = sim.addOpportunity(companyId, { name: 'Backup for 40 seats' });
    sim.winOpportunity(opportunity.id);
    const event = {
      ...agreementAdded(opportunity.id),
      type: 'opportunity/updated',
      objectType: 'opportunity',
      payload: { action: 'updated' },
    };
    const record = await connectwiseKind.readBack(event, ctx);
    expect(record.fields).toMatchObject({
      'opportunity.status': 'Won',
      'opportunity.name': 'Backup for 40 seats',
      'company.name': 'Contoso Ltd',
    });
  });

  it('classifies 429 with Retry-After and 503 as retryable, 404 and bad credentials as not', async () => {
    const ctx = contextFor(sim, simulatorSettings(sim));
    sim.failNext(1, 429);
    expect(await refusal(connectwiseKind.checkApi(ctx))).toMatchObject({
      status: 429,
      retryable: true,
      retryAfterSec: 1,
    });
    sim.failNext(1, 503);
    expect(await refusal(connectwiseKind.checkApi(ctx))).toMatchObject({ status: 503, retryable: true });
    const missing = await refusal(connectwiseKind.readBack(agreementAdded(999_999), ctx));
    expect(missing).toMatchObject({ status: 404, retryable: false, endpoint: 'GET /finance/agreements/{id}' });
    const wrong = contextFor({ credentials: { ...sim.credentials, privateKey: 'wrong' } }, simulatorSettings(sim));
    const refused = await refusal(connectwiseKind.checkApi(wrong));
    expect(refused).toMatchObject({ status: 401, retryable: false });
    expect(refused.message).not.toContain(sim.credentials.publicKey);
    await connectwiseKind.checkApi(ctx);
  });

  it('meets the simulator’s rate limit as a retryable 429', async () => {
    const limited = await startTestConnectWise({ rateLimitPerSecond: 1 });
    try {
      const ctx = contextFor(limited, simulatorSettings(limited));
      await connectwiseKind.checkApi(ctx);
      const second = await refusal(connectwiseKind.checkApi(ctx));
      expect(second).toMatchObject({ status: 429, retryable: true });
      expect(second.retryAfterSec).toBeGreaterThanOrEqual(1);
      expect(limited.stats.rateLimited).toBe(1);
    } finally {
      await limited.close();
    }
  });

  it('writes the result to company custom fields once, however often it is asked', async () => {
    const settings = simulatorSettings(sim, {
      write_back: {
        mode: 'custom_fields',
        fields: { tenant_id: { id: 41 }, admin_login: { caption: 'Acronis admin login' }, state: { id: 43 } },
      },
    });
    const ctx = contextFor(sim, settings);
    const target = { objectType: 'company', objectId: String(companyId) };
    const result = {
      state: 'done' as const,
      tenantId: 'c0ffee00-1111-2222-3333-444455556666',
      adminLogin: 'contoso-admin',
      customer: 'cw:123',
    };
    const before = sim.world.writes.length;
    await connectwiseKind.writeBack(target, result, ctx);
    await connectwiseKind.writeBack(target, result, ctx);
    expect(sim.world.writes.length - before).toBe(1);
    const values = Object.fromEntries(sim.company(companyId).customFields.map((f) => [f.caption, f.value]));
    expect(values).toEqual({
      'Acronis tenant id': result.tenantId,
      'Acronis admin login': 'contoso-admin',
      'Acronis state': 'onboarded',
    });
    const missingField = contextFor(
      sim,
      simulatorSettings(sim, {
        write_back: {
          mode: 'custom_fields',
          fields: { tenant_id: { id: 99 }, admin_login: { id: 42 }, state: { id: 43 } },
        },
      }),
    );
    const error = await refusal(connectwiseKind.writeBack(target, result, missingField));
    expect(error).toMatchObject({ retryable: false });
    expect(error.message).toContain('Custom Fields');
  });

  it('writes one note per customer and updates it when the state changes', async () => {
    const ctx = contextFor(sim, simulatorSettings(sim, { write_back: { mode: 'note', flagged: true } }));
    const target = { objectType: 'company', objectId: String(companyId) };
    await connectwiseKind.writeBack(target, { state: 'failed', reason: 'login taken', customer: 'cw:77' }, ctx);
    await connectwiseKind.writeBack(target, { state: 'failed', reason: 'login taken', customer: 'cw:77' }, ctx);
    await connectwiseKind.writeBack(
      target,
      { state: 'done', tenantId: 't-1', adminLogin: 'a-1', customer: 'cw:77' },
      ctx,
    );
    const notes = sim.world.notes.get(companyId) ?? [];
    const ours = notes.filter((n) => n.text.startsWith('[acronis-onboard cw:77]'));
    expect(ours).toHaveLength(1);
    expect(ours[0]?.text).toContain('State: onboarded');
    expect(ours[0]?.text).toContain('Acronis tenant: t-1');
    expect(ours[0]?.flagged).toBe(true);
  });

  it('takes the callback registration ConnectWise documents and answers in its shape', async () => {
    const request = JSON.parse(
      readFileSync(new URL('../../fixtures/sources/connectwise/callback-entry-request.json', import.meta.url), 'utf8'),
    );
    const expected = JSON.parse(
      readFileSync(new URL('../../fixtures/sources/connectwise/callback-entry-response.json', import.meta.url), 'utf8'),
    );
    const c = sim.credentials;
    const response = await fetch(`${sim.apiUrl}/system/callbacks`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from(`${c.companyId}+${c.publicKey}:${c.privateKey}`).toString('base64')}`,
        clientid: c.clientId,
      },
      body: JSON.stringify({ ...request, type: 'agreement' }),
    });
    expect(response.status).toBe(201);
    const body = (await response.json()) as Record<string, unknown>;
    expect(Object.keys(body).sort()).toEqual(Object.keys(expected as Record<string, unknown>).sort());
    expect(body).not.toHaveProperty('signingKey');
  });
});

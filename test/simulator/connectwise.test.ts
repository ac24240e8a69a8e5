import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRecorder, startTestConnectWise } from '../helpers/connectwise.js';
import { until } from '../helpers/wait.js';

type Sim = Awaited<ReturnType<typeof startTestConnectWise>>;

describe('simulated ConnectWise callbacks', () => {
  let sim: Sim;
  let answers: number[];
  let receiver: Awaited<ReturnType<typeof startRecorder>>;

  beforeAll(async () => {
    sim = await startTestConnectWise({ rateLimitPerSecond: null, callbackRetryDelaysMs: [20, 20, 20] });
    answers = [];
    receiver = await startRecorder((_q, r) => {
      r.statusCode = answers.shift() ?? 200;
      r.end();
    });
    sim.registerCallback(`${receiver.url}/hook`);
  });

  afterAll(async () => {
    await sim?.close();
    await receiver?.close();
  });

  it('retries a callback that did not get a 2xx with the same bytes and signature', async () => {
    answers.push(500, 503);
    const company = sim.addCompany({
      identifier: 'A',
      name: 'A',
      contact: { firstName: 'A', lastName: 'B', email: 'a@b.example' },
    });
    const { deliveries } = sim.addAgreement(company.id, { name: 'Backup' });
    await sim.callbacksSettled();
    expect(deliveries).toHaveLength(1);
    expect(deliveries[0]?.attempts).toEqual([500, 503, 200]);
    expect(receiver.received).toHaveLength(3);
    const [a, b, c] = receiver.received;
    expect(b?.rawBody.equals(a?.rawBody ?? Buffer.alloc(0))).toBe(true);
    expect(c?.headers['x-content-signature']).toBe(a?.headers['x-content-signature']);
    const body = JSON.parse(a?.rawBody.toString('utf8') ?? '{}');
    expect(body).toMatchObject({ Action: 'added', Type: 'agreement', CompanyId: sim.credentials.companyId });
    expect(JSON.parse(body.Entity)).toMatchObject({ name: 'Backup', company: { id: company.id } });
  });

  it('gives up after the configured retries', async () => {
    answers.push(500, 500, 500, 500);
    const before = receiver.received.length;
    const company = sim.addCompany({ identifier: 'B', name: 'B' });
    const opportunity = sim.addOpportunity(company.id, { name: 'Deal' });
    const { deliveries } = sim.winOpportunity(opportunity.id);
    await sim.callbacksSettled();
    expect(deliveries[0]?.attempts).toEqual([500, 500, 500, 500]);
    expect(receiver.received.length - before).toBe(4);
  });

  it('serves the signing key only with our credentials', async () => {
    const company = sim.addCompany({ identifier: 'C', name: 'C' });
    const before = receiver.received.length;
    sim.addAgreement(company.id, { name: 'X' });
    await until(async () => receiver.received.length > before, 'a callback');
    const keyUrl = JSON.parse(receiver.received[before]?.rawBody.toString('utf8') ?? '{}').Metadata.key_url as string;
    expect((await fetch(keyUrl)).status).toBe(401);
    const c = sim.credentials;
    const authorization = `Basic ${Buffer.from(`${c.companyId}+${c.publicKey}:${c.privateKey}`).toString('base64')}`;
    const answer = await fetch(keyUrl, { headers: { authorization, clientid: c.clientId } });
    expect(answer.status).toBe(200);
    expect(await answer.json()).toEqual({ signing_key: expect.any(String) });
    expect((await fetch(keyUrl, { headers: { authorization } })).status).toBe(401);
  });
});

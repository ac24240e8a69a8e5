import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { hubspotKind } from '../../../src/sources/hubspot/kind.js';
import type { Verdict } from '../../../src/sources/kind.js';
import { startHubSpotSimulator, type HubSpotSimulator } from '../../../src/simulator/hubspot/index.js';
import type { AppEvent } from '../../../src/simulator/hubspot/webhook-sender.js';
import { hubspotContext } from './context.js';

/**
 * A receiver over real HTTP that checks each request with the kind, as the intake will, and
 * answers what the test scripts: the simulated HubSpot's signing and retries meet our reading.
 */
interface Received {
  headers: IncomingHttpHeaders;
  body: Buffer;
  verdict: Verdict;
}

let receiver: Server;
let receiverUrl: string;
let received: Received[] = [];
let answers: (number | 'hang')[] = [];
let sim: HubSpotSimulator;

beforeAll(async () => {
  sim = await startHubSpotSimulator();
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const ctx = hubspotContext({ secrets: { HUBSPOT_CLIENT_SECRET: sim.clientSecret, HUBSPOT_TOKEN: 'x' } });
      const delivery = {
        method: request.method!,
        signedUrl: receiverUrl,
        headers: request.headers,
        rawBody: body,
        receivedAt: Date.now(),
      };
      void hubspotKind.verify(delivery, ctx).then((verdict) => {
        received.push({ headers: request.headers, body, verdict });
        const answer = answers.shift() ?? 200;
        if (answer === 'hang') return; // never answered: the sender's timeout decides
        response.writeHead(answer).end();
      });
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/sources/hubspot-eu?via=sim%3A1`;
});

afterEach(() => {
  received = [];
  answers = [];
});

afterAll(async () => {
  await sim.close();
  receiver.closeAllConnections();
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

const events = (r: Received) => JSON.parse(r.body.toString()) as Record<string, unknown>[];

describe('simulated HubSpot app webhooks', () => {
  it('a deal moved to closedwon is posted as a v3-signed batch the kind verifies and parses', async () => {
    const sender = sim.setWebhook({ mode: 'app', targetUrl: receiverUrl, retryDelaysMs: [10] });
    const { dealId } = sim.seedDeal();
    sim.moveDealStage(dealId, 'closedwon');
    await sender.settled();
    expect(received).toHaveLength(1);
    expect(received[0]!.verdict).toEqual({ ok: true });
    expect(received[0]!.headers['x-hubspot-signature-version']).toBe('v1');
    expect(events(received[0]!)).toEqual([
      expect.objectContaining({
        subscriptionType: 'deal.propertyChange',
        objectId: Number(dealId),
        propertyName: 'dealstage',
        propertyValue: 'closedwon',
        attemptNumber: 0,
      }),
    ]);
    const parsed = hubspotKind.parse(
      {
        method: 'POST',
        signedUrl: receiverUrl,
        headers: received[0]!.headers,
        rawBody: received[0]!.body,
        receivedAt: Date.now(),
      },
      hubspotContext(),
    );
    expect(parsed.ok && parsed.events[0]).toMatchObject({ objectType: 'deal', objectId: dealId });
  });

  it('stage changes within the batch window arrive as one request', async () => {
    const sender = sim.setWebhook({ mode: 'app', targetUrl: receiverUrl, batchWindowMs: 50 });
    const deals = [sim.seedDeal(), sim.seedDeal(), sim.seedDeal()];
    for (const { dealId } of deals) sim.moveDealStage(dealId, 'closedwon');
    await sender.settled();
    expect(received).toHaveLength(1);
    expect(events(received[0]!).map((e) => String(e.objectId))).toEqual(deals.map((d) => d.dealId));
  });

  it('after a 503, a 429 and a timeout it retries, attemptNumber growing, each retry freshly signed; same event id', async () => {
    const sender = sim.setWebhook({ mode: 'app', targetUrl: receiverUrl, retryDelaysMs: [10], timeoutMs: 1000 });
    answers = [503, 429, 'hang', 200];
    const { dealId } = sim.seedDeal();
    sim.moveDealStage(dealId, 'closedwon');
    await sender.settled();
    expect(received.map((r) => r.verdict.ok)).toEqual([true, true, true, true]);
    expect(received.map((r) => events(r)[0]!.attemptNumber)).toEqual([0, 1, 2, 3]);
    expect(new Set(received.map((r) => events(r)[0]!.eventId)).size).toBe(1);
    expect(sender.attempts.map((a) => a.status)).toEqual([503, 429, 'timeout', 200]);
  });

  it('after a 400 or a 401 it does not retry', async () => {
    for (const status of [400, 401]) {
      const sender = sim.setWebhook({ mode: 'app', targetUrl: receiverUrl, retryDelaysMs: [10] });
      answers = [status];
      sim.moveDealStage(sim.seedDeal().dealId, 'closedwon');
      await sender.settled();
      await sleep(50);
      expect(sender.attempts.map((a) => a.status)).toEqual([status]);
    }
  });

  it('a redelivery (our 200 lost on the way) carries the same event id, attemptNumber one higher, signed anew', async () => {
    const sender = sim.setWebhook({ mode: 'app', targetUrl: receiverUrl });
    sim.moveDealStage(sim.seedDeal().dealId, 'closedwon');
    await sender.settled();
    sender.redeliver(events(received[0]!) as unknown as AppEvent[]);
    await sender.settled();
    expect(received.map((r) => r.verdict.ok)).toEqual([true, true]);
    const ids = received.map((r) =>
      hubspotKind.parse(
        { method: 'POST', signedUrl: receiverUrl, headers: r.headers, rawBody: r.body, receivedAt: 0 },
        hubspotContext(),
      ),
    );
    expect(ids.map((p) => p.ok && p.events[0]!.eventId)).toEqual([
      ids[0]!.ok && ids[0]!.events[0]!.eventId,
      ids[0]!.ok && ids[0]!.events[0]!.eventId,
    ]);
    expect(received.map((r) => events(r)[0]!.attemptNumber)).toEqual([0, 1]);
  });

  it('stops after the configured number of retries', async () => {
    const sender = sim.setWebhook({ mode: 'app', targetUrl: receiverUrl, retryDelaysMs: [5], maxRetries: 3 });
    answers = [500, 500, 500, 500, 500];
    sim.moveDealStage(sim.seedDeal().dealId, 'closedwon');
    await sender.settled();
    expect(sender.attempts).toHaveLength(4);
  });
});

describe('simulated HubSpot workflow "Send a webhook"', () => {
  it('posts the won deal as legacy JSON signed v2, verified by the kind; other stages post nothing', async () => {
    const sender = sim.setWebhook({ mode: 'workflow', targetUrl: receiverUrl, retryDelaysMs: [10] });
    const { dealId, companyId } = sim.seedDeal();
    sim.moveDealStage(dealId, 'contractsent');
    sim.moveDealStage(dealId, 'closedwon');
    await sender.settled();
    expect(received).toHaveLength(1);
    expect(received[0]!.headers['x-hubspot-signature-version']).toBe('v2');
    expect(received[0]!.verdict).toEqual({ ok: true });
    const body = JSON.parse(received[0]!.body.toString()) as {
      dealId: number;
      associations: { associatedCompanyIds: number[] };
    };
    expect(body.dealId).toBe(Number(dealId));
    expect(body.associations.associatedCompanyIds).toEqual([Number(companyId)]);
  });

  it('v1 workflow signatures verify too; a 404 is not retried, a 500 is, with the same bytes', async () => {
    const sender = sim.setWebhook({
      mode: 'workflow',
      workflowSignature: 'v1',
      targetUrl: receiverUrl,
      retryDelaysMs: [10],
    });
    answers = [500, 404];
    sim.moveDealStage(sim.seedDeal().dealId, 'closedwon');
    await sender.settled();
    expect(sender.attempts.map((a) => a.status)).toEqual([500, 404]);
    expect(received.every((r) => r.verdict.ok)).toBe(true);
    expect(received[0]!.body.equals(received[1]!.body)).toBe(true);
  });
});

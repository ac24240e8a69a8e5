import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { salesforceKind } from '../../../src/sources/salesforce/kind.js';
import { acknowledgement, soapFault } from '../../../src/sources/salesforce/soap.js';
import type { ParsedBody, Verdict } from '../../../src/sources/kind.js';
import { startSalesforceSimulator, type SalesforceSimulator } from '../../../src/simulator/salesforce/index.js';
import { salesforceContext } from './context.js';

/**
 * A receiver over real HTTP that checks each message with the kind, as the intake will, and
 * answers what the test scripts: the simulated org's batching and resending meet our reading.
 */
interface Received {
  headers: IncomingHttpHeaders;
  verdict: Verdict;
  parsed: ParsedBody;
}

let receiver: Server;
let receiverUrl: string;
let received: Received[] = [];
let answers: { status: number; body: string }[] = [];
let sim: SalesforceSimulator;

beforeAll(async () => {
  sim = await startSalesforceSimulator();
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const rawBody = Buffer.concat(chunks);
      const ctx = salesforceContext({ settings: { organization_id: sim.organizationId, instance_url: sim.url } });
      const delivery = {
        method: 'POST',
        signedUrl: receiverUrl,
        headers: request.headers,
        rawBody,
        receivedAt: Date.now(),
      };
      void salesforceKind.verify(delivery, ctx).then((verdict) => {
        received.push({ headers: request.headers, verdict, parsed: salesforceKind.parse(delivery, ctx) });
        const answer = answers.shift() ?? { status: 200, body: acknowledgement() };
        response.writeHead(answer.status, { 'content-type': 'text/xml' }).end(answer.body);
      });
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/webhooks/sources/salesforce`;
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

const eventIds = (r: Received) => (r.parsed.ok ? r.parsed.events.map((e) => e.eventId) : []);

describe('simulated Salesforce outbound messages', () => {
  it('notifications queued together go as one SOAP message the kind verifies and reads, one event each', async () => {
    const sender = sim.setOutbound({ targetUrl: receiverUrl, firstRetryMs: 10 });
    const a = sim.seedOpportunity();
    const b = sim.seedOpportunity();
    const ids = [sim.winOpportunity(a.opportunityId).id, sim.winOpportunity(b.opportunityId).id];
    await sender.settled();
    expect(received).toHaveLength(1);
    expect(received[0]!.verdict).toEqual({ ok: true });
    expect(received[0]!.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(eventIds(received[0]!)).toEqual(ids);
    expect(received[0]!.parsed.ok && received[0]!.parsed.events[0]).toMatchObject({
      type: 'Opportunity',
      objectId: a.opportunityId,
      payload: { fields: { StageName: 'Closed Won', IsWon: 'true', AccountId: a.accountId } },
    });
  });

  it('more than 100 notifications go in messages of 100', async () => {
    const sender = sim.setOutbound({ targetUrl: receiverUrl, firstRetryMs: 10 });
    const { opportunityId } = sim.seedOpportunity();
    for (let i = 0; i < 150; i += 1) sim.winOpportunity(opportunityId);
    await sender.settled();
    expect(received.map((r) => eventIds(r).length)).toEqual([100, 50]);
  });

  it('a SOAP fault (500), a 200 that is no acknowledgement and an Ack of false are resent, same ids, until acknowledged', async () => {
    const sender = sim.setOutbound({ targetUrl: receiverUrl, firstRetryMs: 10, maxRetryMs: 20 });
    answers = [
      { status: 500, body: soapFault('Server', 'down') },
      { status: 200, body: '<ok/>' },
      { status: 200, body: acknowledgement().replace('true', 'false') },
    ];
    const id = sim.winOpportunity(sim.seedOpportunity().opportunityId).id;
    await sender.settled();
    expect(received.map(eventIds)).toEqual([[id], [id], [id], [id]]);
    expect(sender.attempts.map((a) => [a.status, a.acknowledged])).toEqual([
      [500, false],
      [200, false],
      [200, false],
      [200, true],
    ]);
  });

  it('a message never acknowledged is dropped when it is older than the maximum age', async () => {
    const sender = sim.setOutbound({ targetUrl: receiverUrl, firstRetryMs: 10, maxRetryMs: 10, maxAgeMs: 25 });
    answers = Array.from({ length: 100 }, () => ({ status: 503, body: soapFault('Server', 'down') }));
    sim.winOpportunity(sim.seedOpportunity().opportunityId);
    await sender.settled();
    expect(sender.dropped).toHaveLength(1);
    expect(sender.attempts.every((a) => !a.acknowledged)).toBe(true);
  });
});

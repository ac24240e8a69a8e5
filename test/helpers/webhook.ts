import { randomBytes } from 'node:crypto';
import type { RedisConnection } from '../../src/redis/connection.js';
import { scanKeys } from '../../src/redis/scan.js';
import { signPayload } from '../../src/producers/webhook-signature.js';
import { App } from '../../src/app/app.js';
import { startServer, type RunningServer, type StartServerOptions } from '../../src/app/server.js';
import { startTestPipeline, type TestPipeline, type TestPipelineOptions } from './pipeline.js';

/**
 * The webhook server of `serve`, in this process on a free port, over a test pipeline (a
 * simulator, real Redis under a unique prefix; workers when the test starts them).
 */
export interface WebhookHarness {
  t: TestPipeline;
  server: RunningServer;
  url: string;
  secret: string;
  /** Another server over the same pipeline (a restarted `serve`); closed with the harness. */
  startServer(opts?: StartServerOptions): Promise<RunningServer>;
  close(): Promise<void>;
}

export function newWebhookSecret(): string {
  return randomBytes(24).toString('base64url');
}

export async function startWebhookHarness(opts: TestPipelineOptions & StartServerOptions): Promise<WebhookHarness> {
  const secret = opts.env?.WEBHOOK_SECRET ?? newWebhookSecret();
  const t = await startTestPipeline({ ...opts, env: { WEBHOOK_SECRET: secret, PORT: '0', ...opts.env } });
  const servers: RunningServer[] = [];
  const start = async (o: StartServerOptions = {}) => {
    // Each server has its own app, as a restarted `serve` process would.
    const app = await App.open(t.config, { logger: t.logger });
    const running = await startServer(app, {
      callbacks: { recheckMs: 200, firstRetryMs: 200, ...opts.callbacks, ...o.callbacks },
      ...((o.limits ?? opts.limits) ? { limits: { ...opts.limits, ...o.limits } } : {}),
      ...((o.sources ?? opts.sources) ? { sources: { ...opts.sources, ...o.sources } } : {}),
    });
    const server: RunningServer = {
      ...running,
      async close() {
        await running.close();
        await app.close();
      },
    };
    servers.push(server);
    return server;
  };
  const server = await start();
  return {
    t,
    server,
    url: server.url,
    secret,
    startServer: start,
    async close() {
      for (const s of servers) await s.close().catch(() => undefined);
      await t.close();
    },
  };
}

export interface WebhookCall {
  /** Signing secrets; the first by default is the harness's. Null sends no X-Signature. */
  secrets?: string[] | null;
  /** Unix seconds the signature claims. */
  t?: number;
  deliveryId?: string;
  /** Replaces the computed X-Signature. */
  signature?: string;
  contentType?: string | null;
  /** A client-side limit: a server that hangs fails the test instead of the suite. */
  timeoutMs?: number;
}

export interface WebhookAnswer {
  status: number;
  headers: Headers;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read answers loosely
  body: any;
  text: string;
}

/** POSTs `body` (an object, serialised here, or raw text sent as is) signed like a sender would. */
export async function postWebhook(
  baseUrl: string,
  secret: string,
  body: unknown,
  call: WebhookCall = {},
): Promise<WebhookAnswer> {
  const raw = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const headers: Record<string, string> = {};
  const contentType = call.contentType === undefined ? 'application/json' : call.contentType;
  if (contentType !== null) headers['content-type'] = contentType;
  if (call.signature !== undefined) headers['x-signature'] = call.signature;
  else if (call.secrets !== null)
    headers['x-signature'] = signPayload(call.secrets ?? [secret], raw, call.t ?? Math.floor(Date.now() / 1000));
  if (call.deliveryId !== undefined) headers['x-delivery-id'] = call.deliveryId;
  const response = await fetch(`${baseUrl}/webhooks/customers`, {
    method: 'POST',
    headers,
    body: raw,
    signal: AbortSignal.timeout(call.timeoutMs ?? 20_000),
  });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** How many keys match (SCAN, so the shared Redis is not blocked). */
export async function countKeys(redis: RedisConnection, pattern: string): Promise<number> {
  let count = 0;
  for await (const keys of scanKeys(redis, pattern, 1000)) count += keys.length;
  return count;
}

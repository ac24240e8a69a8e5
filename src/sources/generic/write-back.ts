import { createHash } from 'node:crypto';
import got from 'got';
import { SourceApiError, type KindContext, type WriteBack } from '../kind.js';
import { VERSION } from '../../version.js';
import type { GenericSettings } from './settings.js';
import { signStandardWebhook } from './standard-webhooks.js';

/**
 * The generic write-back: the customer's result POSTed to the source's `callback.url`, signed with
 * Standard Webhooks under its own secret, as the sender signs to us. The `webhook-id` is the same on
 * every attempt for one result, so the receiver drops a repeat (the spec's idempotency key).
 */
export async function postGenericResult(
  target: { objectType: string; objectId: string },
  result: WriteBack,
  ctx: KindContext<GenericSettings>,
): Promise<void> {
  const callback = ctx.settings.callback;
  if (!callback) return;
  const secret = ctx.secrets[callback.secret_env] as string;
  const body = JSON.stringify({
    type: result.state === 'done' ? 'customer.onboarded' : 'customer.failed',
    data: {
      source: ctx.source,
      object_id: target.objectId,
      customer: result.customer,
      state: result.state,
      tenant_id: result.tenantId ?? null,
      admin_login: result.adminLogin ?? null,
      reason: result.reason ?? null,
    },
  });
  const id = `wb_${createHash('sha256')
    .update(`${result.customer}\n${result.state}\n${result.tenantId ?? ''}`)
    .digest('hex')
    .slice(0, 32)}`;
  const timestamp = Math.floor(Date.now() / 1000);
  const endpoint = `POST ${new URL(callback.url).origin}`;
  await ctx.acquire();
  const response = await got
    .post(callback.url, {
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': `acronis-onboard/${VERSION} (source write-back)`,
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signStandardWebhook(secret, id, timestamp, body),
      },
      timeout: { request: 10_000 },
      retry: { limit: 0 },
      followRedirect: false,
      throwHttpErrors: false,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    })
    .catch((err: unknown) => {
      const code = (err as { code?: string }).code ?? 'error';
      throw new SourceApiError(ctx.source, endpoint, undefined, true, `the request failed (${code})`);
    });
  const status = response.statusCode;
  if (status >= 200 && status < 300) return;
  // The Standard Webhooks etiquette: 429 and 5xx are worth another try; other answers are not.
  const retryable = status === 429 || status >= 500;
  const retryAfter = Number(response.headers['retry-after']);
  throw new SourceApiError(
    ctx.source,
    endpoint,
    status,
    retryable,
    `the receiver answered ${status}`,
    Number.isFinite(retryAfter) ? retryAfter : undefined,
  );
}

import type { IncomingHttpHeaders } from 'node:http';
import { basicCredentialsOf, sameSecret } from '../basic-credentials.js';
import type { Verdict } from '../kind.js';

/**
 * Pipedrive signs nothing: a webhook carries the HTTP Basic user and password set on it
 * (`http_auth_user`, `http_auth_password`; https://pipedrive.readme.io/docs/guide-for-webhooks-v2).
 * They are whole in the headers, so the request is judged before its body is read; compared in
 * constant time as SHA-256 digests of `user:password`.
 */
export function checkBasicAuth(headers: IncomingHttpHeaders, user: string, password: string): Verdict {
  // An empty password would let anyone in.
  if (password === '') return { ok: false, reason: 'the webhook password is empty' };
  const given = basicCredentialsOf(headers.authorization);
  if (given === undefined) return { ok: false, reason: 'Authorization: Basic <credentials> is missing' };
  return sameSecret(given, `${user}:${password}`) ? { ok: true } : { ok: false, reason: 'wrong user or password' };
}

import type { IncomingHttpHeaders } from 'node:http';
import { basicCredentialsOf, sameSecret } from '../basic-credentials.js';
import type { Verdict } from '../kind.js';
import type { GenericSettings } from './settings.js';
import { checkStandardHeaders, verifyStandardWebhook } from './standard-webhooks.js';

/**
 * The three ways a generic sender proves itself (docs/sources.md "Generic JSON"). A Bearer token
 * or Basic credentials are whole in the headers, so they are judged before the body is read;
 * Standard Webhooks needs the body, so the headers only say whether a signature could match.
 */

type Secrets = Readonly<Record<string, string>>;

const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);

function secret(secrets: Secrets, name: string): string {
  const value = secrets[name];
  // Resolved and checked at start (src/sources/source-set.ts): never absent here.
  if (value === undefined) throw new Error(`the secret ${name} was not resolved`);
  return value;
}

export function standardSecrets(settings: GenericSettings, secrets: Secrets): string[] {
  const { auth } = settings;
  if (auth.scheme !== 'standard-webhooks') return [];
  return [auth.secret_env, auth.previous_secret_env].flatMap((n) => (n ? [secret(secrets, n)] : []));
}

export function checkGenericHeaders(
  headers: IncomingHttpHeaders,
  settings: GenericSettings,
  secrets: Secrets,
  now: number,
): Verdict {
  const { auth } = settings;
  if (auth.scheme === 'standard-webhooks') return checkStandardHeaders(headers, now);
  const authorization = one(headers.authorization) ?? '';
  if (auth.scheme === 'bearer') {
    const token = /^Bearer (\S+)$/i.exec(authorization)?.[1];
    if (token === undefined) return { ok: false, reason: 'Authorization: Bearer <token> is missing' };
    return sameSecret(token, secret(secrets, auth.token_env)) ? { ok: true } : { ok: false, reason: 'wrong token' };
  }
  const given = basicCredentialsOf(authorization);
  if (given === undefined) return { ok: false, reason: 'Authorization: Basic <credentials> is missing' };
  const expected = `${secret(secrets, auth.user_env)}:${secret(secrets, auth.password_env)}`;
  return sameSecret(given, expected) ? { ok: true } : { ok: false, reason: 'wrong user or password' };
}

export function verifyGeneric(
  headers: IncomingHttpHeaders,
  rawBody: Buffer,
  settings: GenericSettings,
  secrets: Secrets,
  now: number,
): Verdict {
  if (settings.auth.scheme === 'standard-webhooks')
    return verifyStandardWebhook(headers, rawBody, standardSecrets(settings, secrets), now);
  return checkGenericHeaders(headers, settings, secrets, now);
}

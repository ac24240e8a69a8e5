import { createHash, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '../logger.js';

/**
 * Who may use the dashboards. With DASHBOARD_USER and DASHBOARD_PASSWORD set, every page, action
 * and bull-board route needs a signed-in session (an encrypted cookie, @fastify/secure-session);
 * without them the server binds to loopback only (`serve` refuses otherwise) and the dashboards
 * are open to this host, answering only to a loopback Host header so that a web page elsewhere
 * cannot reach them through DNS rebinding. CSRF tokens guard every change in both modes.
 */
export interface SignInCredentials {
  user: string;
  password: string;
}

export const SESSION_COOKIE = 'onboard_session';
export const SESSION_HOURS = 12;
/** Failed sign-ins allowed per client address in FAILURE_WINDOW_MS; the next ones get 429. */
export const MAX_FAILED_SIGN_INS = 5;
export const FAILURE_WINDOW_MS = 15 * 60_000;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', '::1', '[::1]', 'localhost']);

declare module '@fastify/secure-session' {
  interface SessionData {
    user: string;
    notice: string;
    _csrf: string;
  }
}

/** The session cookie's key: derived from SECRETS_KEY, so every `serve` of an install reads the others' sessions. */
export function sessionKeyFrom(secretsKey: string): Buffer {
  const derived = hkdfSync('sha256', Buffer.from(secretsKey, 'base64'), 'acronis-onboard', 'dashboard session', 32);
  return Buffer.from(derived);
}

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK_HOSTS.has(host.toLowerCase()) || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Compared in constant time over their hashes, so neither length nor content leaks. */
export function sameSecret(expected: string, given: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(expected), digest(given));
}

export function credentialsMatch(expected: SignInCredentials, user: string, password: string): boolean {
  const userOk = sameSecret(expected.user, user);
  const passwordOk = sameSecret(expected.password, password);
  return userOk && passwordOk;
}

/** The signed-in user, or "local" on an open loopback dashboard; undefined when nobody is signed in. */
export function currentUser(request: FastifyRequest, credentials: SignInCredentials | undefined): string | undefined {
  return credentials ? request.session.get('user') : 'local';
}

/** Paths anyone may reach: the sign-in form and its assets. /metrics checks its own token. */
function isPublic(request: FastifyRequest): boolean {
  const path = request.url.split('?')[0] ?? '';
  return path === '/login' || path.startsWith('/static/') || path === '/metrics';
}

/** onRequest: a request without a session is sent to the sign-in form (pages) or answered 401 (everything else). */
export function requireSignIn(credentials: SignInCredentials | undefined) {
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (!credentials && !isLoopbackHost(hostnameOf(request))) {
      return reply
        .status(403)
        .send({ error: 'this dashboard answers on a loopback address only (set DASHBOARD_USER)' });
    }
    if (isPublic(request) || currentUser(request, credentials)) return undefined;
    const wantsPage =
      request.method === 'GET' && !request.headers['hx-request'] && !request.url.startsWith('/admin/queues/api/');
    if (wantsPage) return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 303);
    return reply.status(401).header('hx-redirect', '/login').send({ error: 'sign in first' });
  };
}

/** preValidation: every change (any method but GET/HEAD) carries the session's CSRF token, in `_csrf` or a header. */
export function requireCsrfToken(app: FastifyInstance) {
  return (request: FastifyRequest, reply: FastifyReply, done: () => void): void => {
    if (request.method === 'GET' || request.method === 'HEAD') return done();
    app.csrfProtection(request, reply, done);
  };
}

/** Only a path of this site, so a crafted `next` cannot send a signed-in user elsewhere. */
export function safeNext(next: unknown): string {
  return typeof next === 'string' && /^\/(?![/\\])/.test(next) ? next : '/';
}

export function logSignIn(logger: Logger, request: FastifyRequest, outcome: 'signed in' | 'refused' | 'limited'): void {
  const level = outcome === 'signed in' ? 'info' : 'warn';
  logger[level]({ ip: request.ip, component: 'dashboard' }, `dashboard sign-in ${outcome}`);
}

function hostnameOf(request: FastifyRequest): string {
  const host = request.headers.host ?? '';
  return host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : (host.split(':')[0] ?? '');
}

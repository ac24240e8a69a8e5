import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { DashboardDeps } from './dashboard.js';
import { renderPage } from './pages.js';
import { credentialsMatch, FAILURE_WINDOW_MS, logSignIn, safeNext } from './sign-in.js';

interface SignInBody {
  user?: string;
  password?: string;
  next?: string;
}

/** GET/POST /login and POST /logout. Failed sign-ins are counted per client address in Redis. */
export function signInRoutes(app: FastifyInstance, deps: DashboardDeps): void {
  const failures = app.createRateLimit();
  const credentials = deps.credentials;

  app.get<{ Querystring: { next?: string } }>('/login', async (request, reply) => {
    if (!credentials || request.session.get('user')) return reply.redirect(safeNext(request.query.next), 303);
    return signInForm(request, reply, deps, { next: safeNext(request.query.next) });
  });

  app.post<{ Body: SignInBody }>('/login', async (request, reply) => {
    if (!credentials) return reply.redirect('/', 303);
    const next = safeNext(request.body?.next);
    const seen = await failures(request, { increment: false });
    if (!seen.isAllowed && seen.remaining === 0) {
      logSignIn(deps.logger, request, 'limited');
      const minutes = Math.ceil((seen.ttl || FAILURE_WINDOW_MS) / 60_000);
      reply.status(429).header('retry-after', String(Math.ceil((seen.ttl || FAILURE_WINDOW_MS) / 1000)));
      return signInForm(request, reply, deps, {
        next,
        error: `Too many failed sign-ins. Try again in ${minutes} min.`,
      });
    }
    const { user = '', password = '' } = request.body ?? {};
    if (!credentialsMatch(credentials, user, password)) {
      await failures(request);
      logSignIn(deps.logger, request, 'refused');
      return signInForm(request, reply.status(401), deps, { next, error: 'Wrong user name or password.' });
    }
    // A fresh session: nothing from before the sign-in carries over, the CSRF secret included.
    request.session.regenerate();
    request.session.set('user', credentials.user);
    logSignIn(deps.logger, request, 'signed in');
    return reply.redirect(next, 303);
  });

  app.post('/logout', async (request, reply) => {
    request.session.delete();
    return reply.redirect(credentials ? '/login' : '/', 303);
  });
}

function signInForm(
  request: FastifyRequest,
  reply: FastifyReply,
  deps: DashboardDeps,
  data: { next: string; error?: string },
) {
  return renderPage(request, reply, deps, 'login', { title: 'Sign in', ...data });
}

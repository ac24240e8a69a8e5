import { afterAll, beforeAll } from 'vitest';
import { App } from '../../src/app/app.js';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { startTestPipeline, type TestPipeline, type TestPipelineOptions } from './pipeline.js';

/**
 * A pipeline with `serve` on top, as an operator has it: the simulator, workers in an App of
 * their own (like a separate `work` process), and the HTTP server with the dashboards in
 * another App, on 127.0.0.1 and a free port.
 */
export const DASHBOARD_USER = 'ops';
export const DASHBOARD_PASSWORD = 'correct-horse-battery';

export interface DashboardPipeline extends TestPipeline {
  serveApp: App;
  server: RunningServer;
  url: string;
  client(): DashboardClient;
}

export async function startDashboardPipeline(opts: TestPipelineOptions): Promise<DashboardPipeline> {
  const t = await startTestPipeline({
    ...opts,
    env: {
      WEBHOOK_SECRET: 'dashboard-test-webhook-secret',
      DASHBOARD_USER,
      DASHBOARD_PASSWORD,
      HOST: '127.0.0.1',
      PORT: '0',
      ...opts.env,
    },
  });
  const serveApp = await App.open(t.config, { logger: t.logger });
  const server = await startServer(serveApp);
  const close = t.close.bind(t);
  return Object.assign(t, {
    serveApp,
    server,
    url: server.url,
    client: () => new DashboardClient(server.url),
    async close() {
      await server.close();
      await serveApp.close();
      await close();
    },
  });
}

/** A dashboard pipeline with workers running for the whole test file; read `.t` inside tests. */
export function dashboardWithWorkers(label: string, env: Record<string, string> = {}): { t: DashboardPipeline } {
  const ref = {} as { t: DashboardPipeline };
  beforeAll(async () => {
    ref.t = await startDashboardPipeline({ label, env });
    await ref.t.startWorkers();
  });
  afterAll(async () => {
    await ref.t?.close();
  });
  return ref;
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
}

/** A browser's part in HTTP: keeps the session cookie, follows nothing, reads CSRF tokens off pages. */
export class DashboardClient {
  private cookie = '';

  constructor(readonly url: string) {}

  async get(path: string, headers: Record<string, string> = {}): Promise<Answer> {
    return this.send('GET', path, undefined, headers);
  }

  async post(path: string, form: Record<string, string> = {}, headers: Record<string, string> = {}): Promise<Answer> {
    return this.send('POST', path, new URLSearchParams(form).toString(), {
      'content-type': 'application/x-www-form-urlencoded',
      ...headers,
    });
  }

  async send(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: { ...(this.cookie ? { cookie: this.cookie } : {}), ...headers },
      ...(body !== undefined ? { body } : {}),
      redirect: 'manual',
    });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      if (pair?.startsWith('onboard_session=')) this.cookie = /max-age=0/i.test(line) || pair.endsWith('=') ? '' : pair;
    }
    return { status: response.status, headers: response.headers, text: await response.text() };
  }

  /** The CSRF token of the forms on `path`. */
  async csrfToken(path = '/login'): Promise<string> {
    const page = await this.get(path);
    const token = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1];
    if (!token) throw new Error(`no CSRF token on ${path} (status ${page.status})`);
    return token;
  }

  async signIn(user = DASHBOARD_USER, password = DASHBOARD_PASSWORD): Promise<Answer> {
    return this.post('/login', { _csrf: await this.csrfToken('/login'), user, password, next: '/' });
  }
}

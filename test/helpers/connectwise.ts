import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../src/logger.js';
import type { KindContext } from '../../src/sources/kind.js';
import { connectwiseSettingsSchema, type ConnectWiseSettings } from '../../src/sources/connectwise/settings.js';
import {
  startConnectWiseSimulator,
  type ConnectWiseSimulatorOptions,
  type RunningConnectWiseSimulator,
} from '../../src/simulator/connectwise/index.js';

/** Fresh credentials per simulator, so two test files never share a signing key or a login. */
export function testCredentials(): { companyId: string; publicKey: string; privateKey: string; clientId: string } {
  return {
    companyId: `cw${randomUUID().slice(0, 6)}`,
    publicKey: randomUUID(),
    privateKey: randomUUID(),
    clientId: randomUUID(),
  };
}

export async function startTestConnectWise(
  options: Partial<ConnectWiseSimulatorOptions> = {},
): Promise<RunningConnectWiseSimulator & { credentials: ReturnType<typeof testCredentials> }> {
  const credentials = testCredentials();
  const sim = await startConnectWiseSimulator({ credentials, callbackRetryDelaysMs: [50, 100], ...options });
  return Object.assign(sim, { credentials });
}

const ENV = { company: 'CW_COMPANY_ID', public: 'CW_PUBLIC_KEY', private: 'CW_PRIVATE_KEY', client: 'CW_CLIENT_ID' };

/** The source file's ConnectWise part for a simulator: loopback, so the test-only rule is on. */
export function simulatorSettings(
  sim: { apiUrl: string; host: string },
  overrides: Record<string, unknown> = {},
): ConnectWiseSettings {
  return connectwiseSettingsSchema.parse({
    api: {
      base_url: sim.apiUrl,
      company_id_env: ENV.company,
      public_key_env: ENV.public,
      private_key_env: ENV.private,
      client_id_env: ENV.client,
    },
    allow_insecure_test_host: true,
    ...overrides,
  });
}

export function contextFor(
  sim: { credentials: ReturnType<typeof testCredentials> },
  settings: ConnectWiseSettings,
  source = `cw-${randomUUID().slice(0, 8)}`,
): KindContext<ConnectWiseSettings> {
  const c = sim.credentials;
  return {
    source,
    settings,
    secrets: {
      [ENV.company]: c.companyId,
      [ENV.public]: c.publicKey,
      [ENV.private]: c.privateKey,
      [ENV.client]: c.clientId,
    },
    acquire: async () => {},
    logger: silentLogger,
  };
}

export interface Received {
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
}

/** A plain HTTP server on loopback that records what reaches it and answers with `answer`. */
export async function startRecorder(
  answer: (request: IncomingMessage, response: ServerResponse) => void = (_q, r) => r.end('{}'),
) {
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      received.push({ headers: request.headers, rawBody: Buffer.concat(chunks) });
      answer(request, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    host: `127.0.0.1:${port}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

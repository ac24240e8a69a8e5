import type { AddressInfo } from 'node:net';
import { RateLimiter } from '../rate-limiter.js';
import { CallbackDispatcher, type CallbackDelivery } from './callbacks.js';
import { buildServer, type ServerState, type SimCredentials } from './server.js';
import { ConnectWiseWorld, type SimAgreement, type SimCompany, type SimOpportunity } from './world.js';

/**
 * A simulated ConnectWise PSA for tests, the demo and benches (docs/simulator.md "Simulated
 * ConnectWise PSA"): start it on port 0, seed companies, then `addAgreement` or
 * `winOpportunity` to make it send its signed callbacks.
 */

export interface ConnectWiseSimulatorOptions {
  host?: string;
  port?: number;
  credentials: SimCredentials;
  /** The company name ConnectWise users sign in with; it appears in callbacks and key URLs. */
  companyName?: string;
  codebase?: string;
  /** Requests per second over all callers; null for none. ConnectWise publishes no figure: 10 is our assumption. */
  rateLimitPerSecond?: number | null;
  /** Delays before each callback retry (ConnectWise publishes none; defaults are an assumption). */
  callbackRetryDelaysMs?: number[];
  callbackTimeoutMs?: number;
}

export interface RunningConnectWiseSimulator {
  /** e.g. http://127.0.0.1:40123 */
  origin: string;
  /** The REST root a source's `api.base_url` names. */
  apiUrl: string;
  /** `host:port`, what a source's `callback_key_host` names. */
  host: string;
  world: ConnectWiseWorld;
  stats: ServerState['stats'];
  deliveries: CallbackDelivery[];
  /** The next `count` requests are answered `status` (429 and 503 with Retry-After: 1). */
  failNext(count: number, status: number): void;
  registerCallback(url: string, types?: string[]): void;
  addCompany: ConnectWiseWorld['addCompany'];
  /** Adds an agreement (with additions) and sends its `agreement/added` callbacks. */
  addAgreement(
    companyId: number,
    input: Parameters<ConnectWiseWorld['addAgreement']>[1],
  ): { agreement: SimAgreement; deliveries: CallbackDelivery[] };
  /** Cancels an agreement and sends its `agreement/updated` callbacks. */
  cancelAgreement(id: number): { agreement: SimAgreement; deliveries: CallbackDelivery[] };
  addOpportunity(companyId: number, input: { name: string }): SimOpportunity;
  /** Marks an opportunity won and sends its `opportunity/updated` callbacks. */
  winOpportunity(id: number): { opportunity: SimOpportunity; deliveries: CallbackDelivery[] };
  /** Sends a delivery's exact bytes once more, as ConnectWise does when it retries. */
  redeliver(delivery: CallbackDelivery): void;
  /** Resolves when no callback is in flight (retries included). */
  callbacksSettled(): Promise<void>;
  company(id: number): SimCompany;
  close(): Promise<void>;
}

function agreementUpdated(dispatcher: CallbackDispatcher, agreement: SimAgreement) {
  return { agreement, deliveries: dispatcher.emit('agreement', 'updated', agreement.id, agreement) };
}

export async function startConnectWiseSimulator(
  options: ConnectWiseSimulatorOptions,
): Promise<RunningConnectWiseSimulator> {
  const codebase = options.codebase ?? 'v4_6_release';
  const world = new ConnectWiseWorld(options.companyName ?? options.credentials.companyId);
  let origin = '';
  const dispatcher = new CallbackDispatcher(world, {
    origin: () => origin,
    codebase,
    retryDelaysMs: options.callbackRetryDelaysMs ?? [60_000, 300_000, 900_000],
    timeoutMs: options.callbackTimeoutMs ?? 10_000,
  });
  const state: ServerState = {
    world,
    dispatcher,
    credentials: options.credentials,
    codebase,
    rateLimitPerSecond: options.rateLimitPerSecond === undefined ? 10 : options.rateLimitPerSecond,
    limiter: new RateLimiter(),
    faults: [],
    stats: { requests: 0, refusedAuth: 0, rateLimited: 0, keyFetches: 0 },
  };
  const app = await buildServer(state);
  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address() as AddressInfo;
  const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  origin = `http://${hostPart}:${address.port}`;
  return {
    origin,
    apiUrl: `${origin}/${codebase}/apis/3.0`,
    host: new URL(origin).host,
    world,
    stats: state.stats,
    deliveries: dispatcher.deliveries,
    failNext: (count, status) => state.faults.push(...Array.from({ length: count }, () => status)),
    registerCallback: (url, types = ['agreement', 'opportunity']) => {
      for (const type of types) world.registerCallback({ url, type, level: 'owner', objectId: 1 });
    },
    addCompany: (input) => world.addCompany(input),
    addAgreement: (companyId, input) => {
      const agreement = world.addAgreement(companyId, input);
      return { agreement, deliveries: dispatcher.emit('agreement', 'added', agreement.id, agreement) };
    },
    cancelAgreement: (id) => agreementUpdated(dispatcher, world.cancelAgreement(id)),
    addOpportunity: (companyId, input) => world.addOpportunity(companyId, input),
    winOpportunity: (id) => {
      const opportunity = world.winOpportunity(id);
      return { opportunity, deliveries: dispatcher.emit('opportunity', 'updated', opportunity.id, opportunity) };
    },
    redeliver: (delivery) => dispatcher.redeliver(delivery),
    callbacksSettled: () => dispatcher.settled(),
    company: (id) => world.company(id),
    close: async () => {
      dispatcher.stop();
      await dispatcher.settled();
      await app.close();
    },
  };
}

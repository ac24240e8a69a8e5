import type { AddressInfo } from 'node:net';
import { RollingWindow } from '../hubspot/rate-window.js';
import { OutboundWebhooks, type OutboundWebhook } from '../outbound-webhooks.js';
import { buildAutotaskServer, type AutotaskCredentials, type AutotaskServerState } from './server.js';
import { signCallout } from './signing.js';
import { AutotaskWorld, type CompanyInput, type SimCompany, type SimWebhook } from './world.js';

/**
 * A simulated Autotask PSA for tests, the demo and benches (docs/simulator.md "Simulated
 * Autotask PSA"): start it on port 0, register a company webhook, then `addCompany` or
 * `updateCompany` to make it send its signed callouts, with only the subscribed and display-always
 * fields, as Autotask does; read back and written through its REST API.
 */

export interface AutotaskSimulatorOptions {
  host?: string;
  port?: number;
  credentials: AutotaskCredentials;
  /** Requests admitted per second over all callers (Autotask's threshold is per hour; tests need seconds). */
  requestsPerSecond?: number;
  /** Delays before each callout retry: Autotask retries after 30 s, 5 attempts within 2 minutes. */
  retryDelaysMs?: number[];
  /** Autotask waits 10 s for an answer. */
  timeoutMs?: number;
}

export interface RunningAutotaskSimulator {
  origin: string;
  /** The zone's REST root, what a source's `api.zone_url` names. */
  zoneUrl: string;
  /** Where the zone is looked up, what a source's `api.zone_lookup_url` names. */
  lookupUrl: string;
  world: AutotaskWorld;
  stats: AutotaskServerState['stats'];
  callouts: OutboundWebhook[];
  failNext(count: number, status: number): void;
  registerWebhook(input: {
    url: string;
    deactivationUrl: string;
    secretKey: string;
    subscribedFields?: string[];
    displayAlwaysFields?: string[];
  }): SimWebhook;
  /** Adds a company (and its primary contact) and sends the create callouts. */
  addCompany(input: CompanyInput): { company: SimCompany; callouts: OutboundWebhook[] };
  /** Changes a company's type or UDFs and sends the update callouts of webhooks subscribed to a changed field. */
  updateCompany(
    id: number,
    change: { companyType?: number; udfs?: Record<string, string | null> },
  ): { company: SimCompany; callouts: OutboundWebhook[] };
  /** Sends a callout once more, byte for byte, as Autotask's retry does. */
  redeliver(callout: OutboundWebhook): void;
  calloutsSettled(): Promise<void>;
  close(): Promise<void>;
}

/** A company field's value, as Autotask puts it in a payload: by its REST name, UDFs by their name. */
function fieldValue(company: SimCompany, name: string): unknown {
  const udf = company.userDefinedFields.find((u) => u.name === name);
  if (udf) return udf.value;
  return (company as unknown as Record<string, unknown>)[name] ?? null;
}

function calloutBody(webhook: SimWebhook, action: 'Create' | 'Update', company: SimCompany, changed: string[]): string {
  const names = [
    ...new Set([...changed.filter((f) => webhook.subscribedFields.includes(f)), ...webhook.displayAlwaysFields]),
  ];
  webhook.sequence++;
  // Key order as Autotask's callouts (test/fixtures/sources/autotask).
  return JSON.stringify({
    Action: action,
    Guid: webhook.guid,
    EntityType: 'Company',
    Id: company.id,
    Fields: Object.fromEntries(names.map((n) => [n, fieldValue(company, n)])),
    EventTime: new Date().toISOString(),
    SequenceNumber: webhook.sequence,
    PersonID: 29_682_885,
  });
}

function changedFields(before: SimCompany, after: SimCompany): string[] {
  const changed = before.companyType !== after.companyType ? ['companyType'] : [];
  for (const udf of after.userDefinedFields) {
    if (before.userDefinedFields.find((u) => u.name === udf.name)?.value !== udf.value) changed.push(udf.name);
  }
  return changed;
}

function applyChange(
  company: SimCompany,
  change: { companyType?: number; udfs?: Record<string, string | null> },
): void {
  if (change.companyType !== undefined) company.companyType = change.companyType;
  for (const [name, value] of Object.entries(change.udfs ?? {})) {
    const udf = company.userDefinedFields.find((u) => u.name === name);
    if (udf) udf.value = value;
    else company.userDefinedFields.push({ name, value });
  }
}

/** One callout per active webhook subscribed to the action (and, for an update, to a changed field). */
function sendCallouts(
  world: AutotaskWorld,
  outbound: OutboundWebhooks,
  action: 'Create' | 'Update',
  company: SimCompany,
  changed: string[],
): OutboundWebhook[] {
  return world.webhooks
    .filter((w) => w.isActive && (action === 'Create' ? w.createEvents : w.updateEvents))
    .filter((w) => action === 'Create' || changed.some((f) => w.subscribedFields.includes(f)))
    .map((w) => {
      const body = calloutBody(w, action, company, changed);
      const headers = { 'x-hook-signature': signCallout(w.secretKey, body) };
      // Autotask resends the same payload on each attempt.
      return outbound.send(w.url, () => ({ body, headers }));
    });
}

export async function startAutotaskSimulator(options: AutotaskSimulatorOptions): Promise<RunningAutotaskSimulator> {
  const world = new AutotaskWorld();
  const outbound = new OutboundWebhooks({
    retryDelaysMs: options.retryDelaysMs ?? [30_000, 30_000, 30_000, 30_000],
    timeoutMs: options.timeoutMs ?? 10_000,
  });
  let origin = '';
  const state: AutotaskServerState = {
    world,
    credentials: options.credentials,
    window: new RollingWindow(options.requestsPerSecond ?? 20, 1000),
    faults: [],
    stats: { requests: 0, refusedAuth: 0, rateLimited: 0, zoneLookups: 0 },
    origin: () => origin,
  };
  const app = await buildAutotaskServer(state);
  await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  const address = app.server.address() as AddressInfo;
  origin = `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;

  const emit = (action: 'Create' | 'Update', company: SimCompany, changed: string[]) =>
    sendCallouts(world, outbound, action, company, changed);

  return {
    origin,
    zoneUrl: `${origin}/atservicesrest`,
    lookupUrl: `${origin}/atservicesrest`,
    world,
    stats: state.stats,
    callouts: outbound.sent,
    failNext: (count, status) => state.faults.push(...Array.from({ length: count }, () => status)),
    registerWebhook: (input) =>
      world.registerWebhook({
        url: input.url,
        deactivationUrl: input.deactivationUrl,
        secretKey: input.secretKey,
        createEvents: true,
        updateEvents: true,
        subscribedFields: input.subscribedFields ?? ['companyType'],
        displayAlwaysFields: input.displayAlwaysFields ?? ['companyName'],
      }),
    addCompany: (input) => {
      const company = world.addCompany(input);
      const present = ['companyType', ...company.userDefinedFields.filter((u) => u.value !== null).map((u) => u.name)];
      return { company, callouts: emit('Create', company, present) };
    },
    updateCompany: (id, change) => {
      const company = world.company(id);
      const before = structuredClone(company);
      applyChange(company, change);
      return { company, callouts: emit('Update', company, changedFields(before, company)) };
    },
    redeliver: (callout) => outbound.redeliver(callout),
    calloutsSettled: () => outbound.settled(),
    close: async () => {
      outbound.stop();
      await outbound.settled();
      await app.close();
    },
  };
}

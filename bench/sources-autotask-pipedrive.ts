import { randomBytes, randomUUID } from 'node:crypto';
import { startAutotaskSimulator } from '../src/simulator/autotask/index.js';
import { signCallout } from '../src/simulator/autotask/signing.js';
import { startPipedriveSimulator } from '../src/simulator/pipedrive/index.js';

/**
 * The Autotask PSA and Pipedrive kinds for bench/sources.ts (kept in a file of their own so other
 * kinds can be added to the bench beside them). Each event is a new company (Autotask) or deal
 * (Pipedrive) as its vendor posts it: an Autotask callout signed `X-Hook-Signature` with the
 * webhook's key, a Pipedrive webhook v2 with its Basic credentials. Nothing is seeded, so the
 * read-backs are refused (Autotask `item: null`, Pipedrive 404) and settle `failed`, as HubSpot's
 * and ConnectWise's do there: the answer to the event, what is measured, does not wait on them.
 */

export interface BenchKind {
  source: string;
  file: Record<string, unknown>;
  request(i: number): { body: string; headers: Record<string, string> };
}

const ENV = {
  atHook: 'BENCH_SOURCES_AT_HOOK',
  atUser: 'BENCH_SOURCES_AT_USER',
  atSecret: 'BENCH_SOURCES_AT_SECRET',
  atCode: 'BENCH_SOURCES_AT_CODE',
  pdUser: 'BENCH_SOURCES_PD_USER',
  pdPassword: 'BENCH_SOURCES_PD_PASSWORD',
  pdToken: 'BENCH_SOURCES_PD_TOKEN',
};

export async function startAutotaskAndPipedrive(): Promise<{ kinds: BenchKind[]; close(): Promise<void> }> {
  const at = { username: 'bench-api@example.com', secret: randomUUID(), integrationCode: randomUUID() };
  const hookKey = randomBytes(24).toString('base64url');
  const pd = { user: 'acronis-onboard', password: randomBytes(24).toString('base64url'), token: randomUUID() };
  Object.assign(process.env, {
    [ENV.atHook]: hookKey,
    [ENV.atUser]: at.username,
    [ENV.atSecret]: at.secret,
    [ENV.atCode]: at.integrationCode,
    [ENV.pdUser]: pd.user,
    [ENV.pdPassword]: pd.password,
    [ENV.pdToken]: pd.token,
  });
  const autotask = await startAutotaskSimulator({ credentials: at, requestsPerSecond: 10 });
  const pipedrive = await startPipedriveSimulator({ apiToken: pd.token, burstLimit: 20 });
  const guid = randomUUID();
  const basic = `Basic ${Buffer.from(`${pd.user}:${pd.password}`).toString('base64')}`;
  const kinds: BenchKind[] = [
    {
      source: 'bench-autotask',
      file: {
        kind: 'autotask',
        rate_limit: { per_second: 10 },
        trigger: { all: [{ field: 'company.companyType', equals: [1] }] },
        mapping: { name: 'company.companyName', email: 'contact.emailAddress' },
        settings: {
          secret_key_env: ENV.atHook,
          api: {
            username_env: ENV.atUser,
            secret_env: ENV.atSecret,
            integration_code_env: ENV.atCode,
            zone_url: autotask.zoneUrl,
          },
        },
      },
      request(i) {
        const body = JSON.stringify({
          Action: 'Update',
          Guid: guid,
          EntityType: 'Company',
          Id: 30_000_000 + i,
          Fields: { companyType: 1, companyName: `Bench Autotask ${i}` },
          EventTime: new Date().toISOString(),
          SequenceNumber: 1_000_000 + i,
          PersonID: 29_682_885,
        });
        return {
          body,
          headers: { 'content-type': 'application/json', 'x-hook-signature': signCallout(hookKey, body) },
        };
      },
    },
    {
      source: 'bench-pipedrive',
      file: {
        kind: 'pipedrive',
        rate_limit: { per_second: 10 },
        trigger: { event_types: ['change.deal'], all: [{ field: 'deal.status', equals: ['won'] }] },
        mapping: { name: 'organization.name', email: 'person.email' },
        settings: {
          webhook_user_env: ENV.pdUser,
          webhook_password_env: ENV.pdPassword,
          api: { base_url: pipedrive.origin, token_env: ENV.pdToken },
        },
      },
      request(i) {
        const dealId = 9_000_000 + i;
        const body = JSON.stringify({
          data: { id: dealId, org_id: 1, person_id: 1, status: 'won', title: `Bench Pipedrive ${i}` },
          previous: { status: 'open' },
          meta: {
            action: 'change',
            company_id: '8087566',
            entity_id: String(dealId),
            entity: 'deal',
            id: randomUUID(),
            is_bulk_edit: false,
            timestamp: new Date().toISOString(),
            type: 'general',
            version: '2.0',
            webhook_id: '4710827',
            change_source: 'app',
            attempt: 1,
          },
        });
        return { body, headers: { 'content-type': 'application/json', authorization: basic } };
      },
    },
  ];
  return {
    kinds,
    close: async () => {
      await autotask.close();
      await pipedrive.close();
    },
  };
}

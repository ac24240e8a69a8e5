import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RunningConnectWiseSimulator } from '../simulator/connectwise/index.js';
import { addedAgreementSource } from '../simulator/connectwise/source-file.js';
import type { HubSpotSimulator } from '../simulator/hubspot/index.js';
import { wonDealSource } from '../simulator/hubspot/source-file.js';
import type { SourceIntakeStore, WriteBackRecord } from '../sources/intake-store.js';
import { startDemoAutotask } from './demo-autotask.js';
import { startDemoPipedrive } from './demo-pipedrive.js';
import { startDemoSalesforce } from './demo-salesforce.js';
import type { DemoSourceCustomer, DemoSystem } from './demo-system.js';

/**
 * The demo's sales/PSA systems (docs/sources.md): a simulated HubSpot, ConnectWise, Pipedrive,
 * Salesforce and Autotask PSA (the last three in demo-<kind>.ts) in the demo's process, each
 * behind a source file of a temporary SOURCES_DIR. Their secrets are made per run and live only in
 * the server's `secretEnv`, where the source files name them; a deal won in HubSpot, an agreement
 * added in ConnectWise, a deal won in Pipedrive, an opportunity won in Salesforce and a company
 * become a Customer in Autotask go through the intake while the CSV batch runs, and each result is
 * written back to its system.
 */

/** How long the demo waits, after the CSV batch, for the write-backs before it says one did not come. */
export const SOURCE_SETTLE_MS = 120_000;
const POLL_MS = 250;

export interface DemoSources {
  /** The SOURCES_DIR the demo's server reads. */
  dir: string;
  /** The simulators' made-up credentials, by the variable names the source files give (the server's `secretEnv`). */
  secretEnv: Readonly<Record<string, string>>;
  /** Points the systems at the server, then wins the deals and adds the agreement. */
  feed(serverUrl: string): void;
  /** One line per source customer once all are written back (or the wait ran out, or `stop` came). */
  settle(store: SourceIntakeStore, stop: AbortSignal, timeoutMs?: number): Promise<string[]>;
  close(): Promise<void>;
}

export async function startDemoSources(): Promise<DemoSources> {
  const { startHubSpotSimulator } = await import('../simulator/hubspot/index.js');
  const { startConnectWiseSimulator } = await import('../simulator/connectwise/index.js');
  const secret = () => randomBytes(18).toString('hex');
  const envNames = sourceEnvNames(randomBytes(4).toString('hex').toUpperCase());
  const hubspot = await startHubSpotSimulator({
    clientSecret: secret(),
    accessToken: `pat-na1-${secret()}`,
  });
  hubspot.defineCompanyProperties('acronis_tenant_id', 'acronis_admin_login', 'acronis_state');
  const cwCredentials = {
    companyId: `demo${secret().slice(0, 6)}`,
    publicKey: secret(),
    privateKey: secret(),
    clientId: secret(),
  };
  const connectwise = await startConnectWiseSimulator({
    credentials: cwCredentials,
    // Short retries: the demo's run is minutes, not ConnectWise's hour of redeliveries.
    callbackRetryDelaysMs: [1000, 5000],
  }).catch(async (err: unknown) => {
    // A listening HubSpot would keep the process up after the demo gave up.
    await hubspot.close();
    throw err;
  });
  const systems = await startSystems(envNames.name).catch(async (err: unknown) => {
    await Promise.allSettled([hubspot.close(), connectwise.close()]);
    throw err;
  });
  const secretEnv = {
    ...Object.fromEntries(systems.flatMap((s) => Object.entries(s.secretEnv))),
    [envNames.hubspotSecret]: hubspot.clientSecret,
    [envNames.hubspotToken]: hubspot.accessToken,
    [envNames.cwCompany]: cwCredentials.companyId,
    [envNames.cwPublic]: cwCredentials.publicKey,
    [envNames.cwPrivate]: cwCredentials.privateKey,
    [envNames.cwClient]: cwCredentials.clientId,
  };
  const dir = await writeSourceDir(hubspot, connectwise, systems, envNames);
  const customers: DemoSourceCustomer[] = [];
  return {
    dir,
    secretEnv,
    feed(serverUrl) {
      customers.push(winHubSpotDeal(hubspot, `${serverUrl}/webhooks/sources/hubspot`));
      customers.push(addConnectWiseAgreement(connectwise, `${serverUrl}/webhooks/sources/connectwise`));
      customers.push(...systems.map((s) => s.feed(serverUrl)));
    },
    settle: (store, stop, timeoutMs = SOURCE_SETTLE_MS) => settle(customers, store, stop, timeoutMs),
    async close() {
      await Promise.allSettled([hubspot.close(), connectwise.close(), ...systems.map((s) => s.close())]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The temporary SOURCES_DIR: one source file per simulated system, naming its secrets by variable. */
async function writeSourceDir(
  hubspot: HubSpotSimulator,
  connectwise: RunningConnectWiseSimulator,
  systems: readonly DemoSystem[],
  envNames: ReturnType<typeof sourceEnvNames>,
): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'acronis-onboard-demo-sources-'));
  const hubspotFile = wonDealSource(hubspot.url, {
    clientSecret: envNames.hubspotSecret,
    accessToken: envNames.hubspotToken,
  });
  // ConnectWise's source is allowed the simulator's plain http on loopback (allow_insecure_test_host).
  const connectwiseFile = addedAgreementSource(connectwise.apiUrl, {
    companyId: envNames.cwCompany,
    publicKey: envNames.cwPublic,
    privateKey: envNames.cwPrivate,
    clientId: envNames.cwClient,
  });
  await writeFile(join(dir, 'hubspot.json'), JSON.stringify(hubspotFile, null, 2));
  await writeFile(join(dir, 'connectwise.json'), JSON.stringify(connectwiseFile, null, 2));
  for (const system of systems) await writeFile(join(dir, system.fileName), JSON.stringify(system.file, null, 2));
  return dir;
}

/** The systems with a module of their own, started one after another; those started close if one cannot start. */
async function startSystems(name: (what: string) => string): Promise<DemoSystem[]> {
  const systems: DemoSystem[] = [];
  try {
    for (const start of [startDemoPipedrive, startDemoSalesforce, startDemoAutotask]) systems.push(await start(name));
    return systems;
  } catch (err) {
    await Promise.allSettled(systems.map((s) => s.close()));
    throw err;
  }
}

/** Names of this run only, so a variable of the user's own is never overwritten. */
function sourceEnvNames(tag: string) {
  const name = (what: string) => `ACRONIS_ONBOARD_DEMO_${what}_${tag}`;
  return {
    name,
    hubspotSecret: name('HUBSPOT_CLIENT_SECRET'),
    hubspotToken: name('HUBSPOT_TOKEN'),
    cwCompany: name('CW_COMPANY_ID'),
    cwPublic: name('CW_PUBLIC_KEY'),
    cwPrivate: name('CW_PRIVATE_KEY'),
    cwClient: name('CW_CLIENT_ID'),
  };
}

/** HubSpot's app webhook (v3, signed over the URL it posts to: the demo server's real one). */
function winHubSpotDeal(hubspot: HubSpotSimulator, targetUrl: string): DemoSourceCustomer {
  hubspot.setWebhook({ mode: 'app', targetUrl, retryDelaysMs: [1000, 5000], maxRetries: 2 });
  const { dealId, companyId } = hubspot.seedDeal({
    deal: { dealname: 'Cyber Protect for 15 workstations' },
    company: { name: 'Northwind Traders (won in HubSpot)', domain: 'northwind.example', country: 'Germany' },
    contact: { email: 'it@northwind.example', firstname: 'Nina', lastname: 'Weber' },
    lineItems: [{ sku: 'ACR-CP-WS', name: 'Cyber Protect workstation', quantity: 15 }],
  });
  hubspot.moveDealStage(dealId, 'closedwon');
  return {
    what: `HubSpot: deal ${dealId} won`,
    customerKey: `hubspot:${dealId}`,
    companyId,
    writtenInSystem: () => hubspot.store.writeBacks.some((w) => w.companyId === companyId),
  };
}

function addConnectWiseAgreement(connectwise: RunningConnectWiseSimulator, callbackUrl: string): DemoSourceCustomer {
  connectwise.registerCallback(callbackUrl, ['agreement']);
  const company = connectwise.addCompany({
    identifier: 'ContosoDental',
    name: 'Contoso Dental (agreement in ConnectWise)',
    country: 'United States',
    contact: { firstName: 'Sam', lastName: 'Rivera', email: 'it@contoso-dental.example' },
  });
  const { agreement } = connectwise.addAgreement(company.id, {
    name: 'Managed Backup',
    type: 'Managed Backup',
    additions: [{ product: 'ACR-WORKSTATION', quantity: 8 }],
  });
  const companyPath = `/company/companies/${company.id}`;
  return {
    what: `ConnectWise: agreement ${agreement.id} added`,
    customerKey: `connectwise:${agreement.id}`,
    companyId: String(company.id),
    writtenInSystem: () => connectwise.world.writes.some((w) => w.path.includes(companyPath)),
  };
}

async function settle(
  customers: readonly DemoSourceCustomer[],
  store: SourceIntakeStore,
  stop: AbortSignal,
  timeoutMs: number,
): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  let records: (WriteBackRecord | undefined)[] = [];
  while (!stop.aborted) {
    records = await Promise.all(customers.map((c) => store.writeBack(c.customerKey)));
    const ended = records.every(
      (r, i) => r?.state === 'failed' || (r?.state === 'written' && customers[i]!.writtenInSystem()),
    );
    if (ended || Date.now() >= deadline) break;
    await sleep(POLL_MS, undefined, { signal: stop }).catch(() => undefined);
  }
  return customers.map((c, i) => outcomeLine(c, records[i], timeoutMs));
}

function outcomeLine(c: DemoSourceCustomer, record: WriteBackRecord | undefined, timeoutMs: number): string {
  const customer = `customer ${c.customerKey}`;
  if (record?.state === 'written' && c.writtenInSystem()) {
    const onboarded = record.result === 'done' ? 'onboarded' : `ended ${record.result ?? 'unknown'}`;
    return `${c.what} → ${customer} ${onboarded}, written back to company ${c.companyId}`;
  }
  if (record?.state === 'failed')
    return `${c.what} → ${customer}: write-back failed: ${record.error ?? 'no reason given'}`;
  return `${c.what} → ${customer}: not written back within ${Math.round(timeoutMs / 1000)} s (${record ? `write-back ${record.state}` : 'no write-back yet'}); the Sources page tells where it stands`;
}

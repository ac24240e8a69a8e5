import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { App } from '../app/app.js';
import { openProducer } from '../app/producer.js';
import { startWorkers } from '../app/workers.js';
import type { Config } from '../config.js';
import { importCsv } from '../producers/csv-import.js';
import { connectOrExplain, createRedis } from '../redis/connection.js';
import { RedisKeys } from '../redis/keys.js';
import { scanKeys } from '../redis/scan.js';
import type { RunningSimulator } from '../simulator/index.js';
import { plural } from '../text/plural.js';

/**
 * The demo serves two partners in two data centres from one install (docs/partners.md): the
 * demo's simulator as partner `eu`, a second simulated data centre as `us`, a partners file that
 * names their API clients by variable only, and a small CSV whose `partner` column sends each
 * customer to its own. An install of its own beside the demo's (its own key prefix, removed at
 * the end), so the demo's single-partner install stays as a user configured it.
 */
const CUSTOMERS = [
  ['partners-1', 'Harbour Optics GmbH', 'it@harbour-optics.example', 'eu'],
  ['partners-2', 'Lakeside Veterinary', 'admin@lakeside-vet.example', 'us'],
  ['partners-3', 'Nordlicht Bakery', 'office@nordlicht.example', 'eu'],
  ['partners-4', 'Prairie Legal LLC', 'it@prairie-legal.example', 'us'],
];
const RATE_LIMITS = { eu: 100, us: 50 };

export async function demoPartners(demo: App, print: (line: string) => void, stop: AbortSignal): Promise<void> {
  const { startSimulator } = await import('../simulator/index.js');
  const us = await startSimulator({
    seed: 'acronis-onboard-demo:us',
    partner: { name: 'Sim Partner US', adminLogin: 'sim-us-partner-admin' },
    latencyMs: 30,
    jitterMs: 40,
  });
  const dir = await mkdtemp(join(tmpdir(), 'acronis-onboard-demo-partners-'));
  const { config, secretEnv } = await partnersInstall(demo.config, us, dir);
  const app = await App.open(config, { logger: demo.logger, secretEnv });
  try {
    const workers = await startWorkers(app);
    try {
      print('partners: one install, two partners in two data centres (PARTNERS_FILE, docs/partners.md):');
      for (const p of app.partners.all) print(`  ${p.name}: data centre ${p.dataCenter}, ${p.rateLimit} requests/s`);
      await importAcrossPartners(app, dir, print, stop);
    } finally {
      await workers.close(5000);
    }
  } finally {
    await app.close();
    await removeKeys(config);
    await us.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** The partners file (secrets by variable name) and the variables it names, beside the demo's install. */
async function partnersInstall(
  demo: Config,
  us: RunningSimulator,
  dir: string,
): Promise<{ config: Config; secretEnv: Record<string, string> }> {
  const file = join(dir, 'partners.json');
  const partners = [
    { name: 'eu', base_url: demo.ACRONIS_BASE_URL as string, variable: 'EU' },
    { name: 'us', base_url: us.url, variable: 'US' },
  ].map(({ name, base_url, variable }) => ({
    name,
    base_url,
    client_id_env: `${variable}_ACRONIS_CLIENT_ID`,
    client_secret_env: `${variable}_ACRONIS_CLIENT_SECRET`,
    rate_limit: RATE_LIMITS[name as keyof typeof RATE_LIMITS],
  }));
  await writeFile(file, JSON.stringify({ default: 'eu', partners }, null, 2), { mode: 0o600 });
  const secretEnv = {
    EU_ACRONIS_CLIENT_ID: demo.ACRONIS_CLIENT_ID as string,
    EU_ACRONIS_CLIENT_SECRET: demo.ACRONIS_CLIENT_SECRET as string,
    US_ACRONIS_CLIENT_ID: us.seed.clientId,
    US_ACRONIS_CLIENT_SECRET: us.seed.clientSecret,
  };
  const config: Config = {
    ...demo,
    QUEUE_PREFIX: `${demo.QUEUE_PREFIX}-partners`,
    PARTNERS_FILE: file,
    // With a partners file these are not read; an operator would not set them.
    ACRONIS_BASE_URL: undefined,
    ACRONIS_CLIENT_ID: undefined,
    ACRONIS_CLIENT_SECRET: undefined,
    ACRONIS_PARENT_TENANT_ID: undefined,
    // The demo's own install sweeps already; this one lives for a few seconds.
    RECONCILE_EVERY: 0,
  };
  return { config, secretEnv };
}

/** The CSV imported as `import` does, then each customer with its partner and data centre. */
async function importAcrossPartners(
  app: App,
  dir: string,
  print: (line: string) => void,
  stop: AbortSignal,
): Promise<void> {
  const csv = join(dir, 'partners.csv');
  const rows = CUSTOMERS.map((cells) => cells.join(','));
  await writeFile(csv, ['external_id,name,email,partner', ...rows].join('\n') + '\n');
  const report = await importCsv({ producer: await openProducer(app), path: csv });
  const batchId = report.batch?.id;
  if (!batchId) return print(`  import partners.csv: nothing queued (${report.badRowCount} bad rows)`);
  let batch = await app.store.getBatch(batchId);
  while (batch && !batch.ended && !stop.aborted) {
    await sleep(200);
    batch = await app.store.getBatch(batchId);
  }
  print(
    `  import partners.csv (a partner column): batch ${batchId}, ${plural(batch?.done ?? 0, 'customer')} done, ${batch?.failed ?? 0} failed`,
  );
  // In the CSV's order (the batch lists them as they ended).
  const customers = (await app.store.batchCustomers(batchId)).sort((a, b) => a.key.localeCompare(b.key));
  for (const { key, record } of customers) {
    const partner = app.partners.get(record?.partner);
    print(
      `    ${record?.name ?? key} (${key}): partner ${partner.name}, data centre ${partner.dataCenter}, ${record?.state ?? '?'}, tenant ${record?.facts?.tenantId ?? '?'}`,
    );
  }
}

/** This install's keys go with it, as the demo's own do. */
async function removeKeys(config: Config): Promise<void> {
  const redis = await connectOrExplain(createRedis(config.REDIS_URL, 'fail-fast'), config.REDIS_URL);
  try {
    for await (const keys of scanKeys(redis, new RedisKeys(config.QUEUE_PREFIX).installPattern, 1000))
      await redis.unlink(...keys);
  } finally {
    redis.disconnect();
  }
}

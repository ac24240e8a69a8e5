import { setTimeout as sleep } from 'node:timers/promises';
import { adopt, type AdoptReport, type AdoptSource } from '../adopt/adopt-run.js';
import { openAdopt } from '../app/adopt-deps.js';
import type { App } from '../app/app.js';
import type { Requester } from '../lifecycle/action.js';
import { plural } from '../text/plural.js';

/**
 * The demo adopts the simulator's customers made by hand (docs/adopt.md), as an operator would
 * from the CLI: first the one the CSV's import failed on (its name is theirs; the failure names the
 * adopt command), under the import's external id, then every other one with `--all-unmanaged`;
 * then shows them as `status BATCH` does. Only against the simulator: a real partner's tenants
 * are not the demo's to stamp.
 */
const DEMO_REQUESTER: Requester = { kind: 'operator', label: 'operator (demo adopt)' };

export async function demoAdopt(app: App, print: (line: string) => void, stop: AbortSignal): Promise<void> {
  const deps = await openAdopt(app);
  print('adopt: customers made elsewhere taken into this install (acronis-onboard adopt):');
  const sources: [string, AdoptSource][] = (await failedOnAName(app)).map(({ key, name }) => [
    `adopt --tenant "${name}" --external-id ${key}  (the import's failure names it)`,
    { tenant: name, externalId: key },
  ]);
  sources.push(['adopt --all-unmanaged', { allUnmanaged: true, keyFrom: 'name' }]);
  for (const [command, source] of sources) {
    if (stop.aborted) return;
    const report = await adopt(deps, source, { requester: DEMO_REQUESTER });
    for (const r of report.plan.refused) print(`  ${command}: refused: ${r.field}: ${r.reason}`);
    await printAdopted(app, command, report, print, stop);
  }
}

/** The CSV's customers that failed on a name held by a tenant without customer_id. */
async function failedOnAName(app: App): Promise<{ key: string; name: string }[]> {
  const batch = (await app.store.listBatches(10)).find((b) => b.source === 'csv');
  if (!batch) return [];
  return (await app.store.batchCustomers(batch.id)).flatMap(({ key, record }) =>
    record?.state === 'failed' &&
    record.needsChange?.field === 'name' &&
    /no customer_id/.test(record.needsChange.owner)
      ? [{ key, name: record.name }]
      : [],
  );
}

async function printAdopted(
  app: App,
  command: string,
  report: AdoptReport,
  print: (line: string) => void,
  stop: AbortSignal,
): Promise<void> {
  const batchId = report.queued?.result.batch.id;
  if (!batchId) return print(`  ${command}: nothing to adopt`);
  let batch = await app.store.getBatch(batchId);
  while (batch && !batch.ended && !stop.aborted) {
    await sleep(200);
    batch = await app.store.getBatch(batchId);
  }
  print(
    `  ${command}: batch ${batchId}, ${plural(batch?.done ?? 0, 'customer')} adopted, ${batch?.failed ?? 0} failed`,
  );
  for (const { key, record } of await app.store.batchCustomers(batchId)) {
    const facts = record?.facts;
    const admin = facts?.login ? `admin ${facts.login}` : 'no admin user yet';
    print(
      `    ${record?.name ?? key} (${key}): ${record?.state ?? '?'}, tenant ${facts?.tenantId ?? '?'}, ${admin}, pricing ${facts?.pricingMode ?? '?'}`,
    );
  }
}

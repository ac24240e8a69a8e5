import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { App } from '../../src/app/app.js';
import { startServer, type RunningServer } from '../../src/app/server.js';
import { eventHashOf, SourceIntakeStore, type StoredEvent } from '../../src/sources/intake-store.js';
import { SourceFileError } from '../../src/sources/source-file.js';
import { runCli } from '../helpers/cli.js';
import { startTwoPartnerInstall, type TwoPartnerInstall } from '../helpers/partners.js';
import { expectEachOnboardedOnce } from '../helpers/pipeline.js';
import { until } from '../helpers/wait.js';
import { newWebhookSecret } from '../helpers/webhook.js';

/**
 * Sources on an install serving two partners in two simulated data centres (docs/sources.md
 * "Partners"): a source file's `partner`, a mapped `partner`, an unknown one, a customer under
 * another partner; the server of `serve` in this process, workers beside it.
 */

const token = randomBytes(24).toString('base64url');
const TOKEN_ENV = 'PARTNER_SOURCES_TOKEN';
const generic = (extra: object) => ({
  kind: 'generic',
  rate_limit: { per_second: 50 },
  settings: { auth: { scheme: 'bearer', token_env: TOKEN_ENV }, object_id: 'ref' },
  ...extra,
});

function sourcesDir(files: Record<string, object>): string {
  const dir = mkdtempSync(join(tmpdir(), 'partner-sources-'));
  for (const [name, content] of Object.entries(files))
    writeFileSync(join(dir, `${name}.json`), JSON.stringify(content));
  return dir;
}

const dir = sourcesDir({
  // Its customers are dc2's, unless the record's `region` names another partner.
  west: generic({
    partner: 'dc2',
    mapping: { name: 'company', email: 'email', external_id: 'ref', partner: 'region' },
  }),
  // No mapping: each event is a customer in our own field names, `partner` among them.
  plain: generic({}),
});

let t: TwoPartnerInstall;
let server: RunningServer;
let store: SourceIntakeStore;

beforeAll(async () => {
  t = await startTwoPartnerInstall({
    label: 'source-partners',
    env: { WEBHOOK_SECRET: newWebhookSecret(), PORT: '0', SOURCES_DIR: dir },
  });
  await t.startWorkers();
  server = await startServer(t.app, { sources: { secretEnv: { [TOKEN_ENV]: token } } });
  store = new SourceIntakeStore(t.app.redis, t.app.keys);
});
afterAll(async () => {
  await server?.close();
  await t?.close();
});

async function send(source: string, payload: object): Promise<StoredEvent> {
  const response = await fetch(`${server.url}/webhooks/sources/${source}`, {
    method: 'POST',
    body: JSON.stringify(payload),
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
  });
  expect(response.status).toBe(202);
  const { events } = (await response.json()) as { events: { event_id: string }[] };
  const eventId = events[0]!.event_id;
  let event: StoredEvent | undefined;
  await until(async () => {
    event = await store.event(source, eventHashOf(eventId));
    return event !== undefined && event.outcome !== 'received';
  }, `event ${eventId} of ${source} to be settled`);
  return event as StoredEvent;
}

const customer = (ref: string) => ({ name: `Source ${ref}`, email: `it@${ref.toLowerCase()}.example` });

describe('sources with two partners', () => {
  it("onboards a source's customers under its partner, or under the one the mapping gives, each once in its data centre", async () => {
    const fromFile = await send('west', { ref: 'W-1', company: 'Source W-1', email: 'it@w-1.example' });
    const mapped = await send('west', { ref: 'W-2', company: 'Source W-2', email: 'it@w-2.example', region: 'DC1' });
    expect(fromFile).toMatchObject({ outcome: 'onboarding', customer: 'W-1' });
    expect(mapped).toMatchObject({ outcome: 'onboarding', customer: 'W-2' });
    await t.waitForBatch(fromFile.batchId as string);
    await t.waitForBatch(mapped.batchId as string);
    expectEachOnboardedOnce(t.sims[1].state(), [{ ...customer('W-1'), external_id: 'W-1' }]);
    expectEachOnboardedOnce(t.sims[0].state(), [{ ...customer('W-2'), external_id: 'W-2' }]);
    expect(t.sims[0].state().tenants.some((x) => x.customer_id === 'W-1')).toBe(false);
    expect(t.sims[1].state().tenants.some((x) => x.customer_id === 'W-2')).toBe(false);
    expect(await t.app.store.getCustomer('W-1')).toMatchObject({ partner: 'dc2' });
  });

  it('rejects an event naming a partner the install does not serve, saying which and where it came from', async () => {
    const event = await send('west', { ref: 'W-3', company: 'Source W-3', email: 'it@w-3.example', region: 'mars' });
    expect(event).toMatchObject({
      outcome: 'rejected',
      reason: 'the customer is not valid',
      problems: [
        { field: 'partner', reason: 'unknown partner "mars": this install serves "dc1", "dc2" (from region)' },
      ],
    });
    expect(await t.app.store.getCustomer('W-3')).toBeUndefined();
  });

  it('rejects an event whose customer is recorded under another partner, queuing nothing', async () => {
    const event = await send('plain', { ...customer('W-1'), external_id: 'W-1', partner: 'dc1' });
    expect(event).toMatchObject({
      outcome: 'rejected',
      reason: 'the customer is recorded under another partner',
      problems: [
        {
          field: 'partner',
          reason:
            'customer "W-1" is recorded under partner "dc2", not "dc1": moving a customer between partners is not supported',
        },
      ],
    });
    expect(await t.app.store.getCustomer('W-1')).toMatchObject({ partner: 'dc2', state: 'done' });
  });

  it('`acronis-onboard sources` names a source file whose partner the install does not serve, exit 2', async () => {
    const checked = sourcesDir({
      east: generic({ partner: 'moon' }),
      mapped: generic({ mapping: { name: 'company', email: 'email', partner: { value: 'Sun' } } }),
      west: generic({ partner: 'dc2' }),
    });
    const run = await runCli(t, ['sources'], { ...t.secretEnv, SOURCES_DIR: checked, [TOKEN_ENV]: token });
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toMatch(/^east\s+.*partner: unknown partner "moon": this install serves "dc1", "dc2"$/m);
    expect(run.stdout).toMatch(
      /^mapped\s+.*mapping\.partner: unknown partner "Sun": this install serves "dc1", "dc2"$/m,
    );
    expect(run.stdout).toMatch(/^west\s+generic\s+ok/m);
  });

  it('stops the start on a source file naming a partner the install does not serve, naming the field', async () => {
    const bad = sourcesDir({ east: generic({ partner: 'moon' }) });
    const app = await App.open({ ...t.config, SOURCES_DIR: bad }, { logger: t.logger, secretEnv: t.secretEnv });
    try {
      const err = await startServer(app).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(SourceFileError);
      expect(err).toMatchObject({
        field: 'partner',
        reason: 'unknown partner "moon": this install serves "dc1", "dc2"',
      });
    } finally {
      await app.close();
    }
  });
});

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logger.js';
import { startPipedriveSimulator, type RunningPipedriveSimulator } from '../../../src/simulator/pipedrive/index.js';
import { SourceApiError, type KindContext } from '../../../src/sources/kind.js';
import { PipedriveClient } from '../../../src/sources/pipedrive/client.js';
import { PipedriveSettings } from '../../../src/sources/pipedrive/settings.js';

/** The Pipedrive client against the simulated Pipedrive: reads, and its answers classified once. */

const apiToken = randomUUID();
let pd: RunningPipedriveSimulator;

beforeAll(async () => {
  pd = await startPipedriveSimulator({ apiToken, burstLimit: 3, burstWindowMs: 60_000 });
});
afterAll(async () => pd?.close());

function client(token = apiToken): PipedriveClient {
  const settings = PipedriveSettings.parse({
    webhook_user_env: 'U',
    webhook_password_env: 'P',
    api: { base_url: pd.origin, token_env: 'TOKEN' },
  });
  const ctx: KindContext<PipedriveSettings> = {
    source: 'pd',
    settings,
    secrets: { U: 'u', P: 'p', TOKEN: token },
    acquire: async () => {},
    logger: silentLogger,
  };
  return new PipedriveClient(ctx);
}

async function failure(work: Promise<unknown>): Promise<SourceApiError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceApiError);
  return error as SourceApiError;
}

describe('Pipedrive API client', () => {
  it('reads a deal, its products, its organization; an unknown deal is 404, a wrong token 401, the burst limit 429 with its reset', async () => {
    const { deal } = pd.addDeal({
      organization: 'Northwind',
      person: { firstName: 'Ada', lastName: 'Admin', email: 'ada@northwind.example' },
      products: [{ name: 'Acronis Workstation', quantity: 4 }],
    });
    const c = client();
    expect(await c.getDeal(String(deal.id))).toMatchObject({ org_id: deal.org_id, status: 'open' });
    expect(await c.dealProducts(deal.id)).toMatchObject([{ name: 'Acronis Workstation', quantity: 4 }]);
    expect(await failure(c.getDeal('1'))).toMatchObject({ status: 404, retryable: false });
    const wrong = await failure(client(randomUUID()).me());
    expect(wrong).toMatchObject({ status: 401, retryable: false, message: expect.stringContaining('TOKEN') });
    // Three admitted in the window (two reads, the 404); the fourth is over the burst limit.
    const limited = await failure(c.getOrganization(deal.org_id!));
    expect(limited).toMatchObject({ status: 429, retryable: true, retryAfterSec: 60 });
    expect(pd.stats.rateLimited).toBe(1);
  });
});

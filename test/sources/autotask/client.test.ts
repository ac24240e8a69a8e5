import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../../src/logger.js';
import { startAutotaskSimulator, type RunningAutotaskSimulator } from '../../../src/simulator/autotask/index.js';
import { AutotaskClient } from '../../../src/sources/autotask/client.js';
import { AutotaskSettings } from '../../../src/sources/autotask/settings.js';
import { writeResult } from '../../../src/sources/autotask/write-back.js';
import { SourceApiError, type KindContext } from '../../../src/sources/kind.js';

/** The Autotask client against the simulated Autotask: the zone looked up once, its answers classified once. */

const credentials = { username: 'api@example.com', secret: randomUUID(), integrationCode: randomUUID() };
let at: RunningAutotaskSimulator;

beforeAll(async () => {
  at = await startAutotaskSimulator({ credentials, requestsPerSecond: 1000 });
});
afterAll(async () => at?.close());

function client(secret = credentials.secret): AutotaskClient {
  const settings = AutotaskSettings.parse({
    secret_key_env: 'HOOK',
    api: { username_env: 'USER', secret_env: 'SECRET', integration_code_env: 'CODE', zone_lookup_url: at.lookupUrl },
  });
  const ctx: KindContext<AutotaskSettings> = {
    source: `at-${randomUUID().slice(0, 8)}`,
    settings,
    secrets: { HOOK: 'k', USER: credentials.username, SECRET: secret, CODE: credentials.integrationCode },
    acquire: async () => {},
    logger: silentLogger,
  };
  return new AutotaskClient(ctx);
}

async function failure(work: Promise<unknown>): Promise<SourceApiError> {
  const error = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(SourceApiError);
  return error as SourceApiError;
}

describe('Autotask REST client', () => {
  it('reads a company and its primary contact, looking the zone up once per source', async () => {
    const { company } = at.addCompany({
      companyName: 'Fabrikam',
      contact: { firstName: 'Ada', lastName: 'Admin', emailAddress: 'ada@fabrikam.example' },
    });
    const c = client();
    const lookups = at.stats.zoneLookups;
    expect(await c.getCompany(String(company.id))).toMatchObject({ companyName: 'Fabrikam', companyType: 3 });
    expect(await c.companyContacts(company.id)).toMatchObject([{ emailAddress: 'ada@fabrikam.example' }]);
    expect(at.stats.zoneLookups).toBe(lookups + 1);
  });

  it('an unknown company (200, item null) fails for good; the threshold (429) and 5xx are retryable', async () => {
    const c = client();
    expect(await failure(c.getCompany('1'))).toMatchObject({
      retryable: false,
      message: expect.stringContaining('no such company'),
    });
    at.failNext(1, 429);
    expect(await failure(c.getCompany('1'))).toMatchObject({ status: 429, retryable: true });
    at.failNext(1, 500);
    expect(await failure(c.getCompany('1'))).toMatchObject({ status: 500, retryable: true });
  });

  it('a wrong secret is refused (401), not retried, and the reason names what to check, not the secret', async () => {
    const secret = randomUUID();
    const error = await failure(client(secret).entityInformation());
    expect(error).toMatchObject({ status: 401, retryable: false });
    expect(error.message).toContain('integration code');
    expect(error.message).not.toContain(secret);
  });

  it('the note write-back creates one note, leaves the same text alone and updates a changed state', async () => {
    const { company } = at.addCompany({ companyName: 'Noted' });
    const target = { objectType: 'company', objectId: String(company.id) };
    const settings = { mode: 'note' as const, action_type: 3, title: 'Acronis onboarding' };
    const failed = { state: 'failed' as const, reason: 'no admin e-mail', customer: 'C1' };
    await writeResult(client(), settings, target, failed, 'at');
    await writeResult(client(), settings, target, failed, 'at');
    expect(at.world.notes.get(company.id)).toHaveLength(1);
    const done = { state: 'done' as const, tenantId: 't-1', adminLogin: 'admin', customer: 'C1' };
    await writeResult(client(), settings, target, done, 'at');
    const notes = at.world.notes.get(company.id)!;
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ actionType: 3, description: expect.stringContaining('State: onboarded') });
    expect(at.world.writes.filter((w) => w.path.endsWith(`/Companies/${company.id}/Notes`))).toHaveLength(2);
  });

  it('a write-back UDF that does not exist fails for good, naming where to create it', async () => {
    const { company } = at.addCompany({ companyName: 'NoUdf' });
    const settings = { mode: 'udf' as const, fields: { tenant_id: 'Tenant', admin_login: 'Login', state: 'State' } };
    const error = await failure(
      writeResult(
        client(),
        settings,
        { objectType: 'company', objectId: String(company.id) },
        { state: 'done', customer: 'C2' },
        'at',
      ),
    );
    expect(error).toMatchObject({ retryable: false, message: expect.stringContaining('User-Defined Fields') });
  });
});

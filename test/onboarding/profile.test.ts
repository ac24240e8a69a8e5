import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REGISTRATION_TOKEN_SECONDS } from '../../src/acronis/registration-tokens.js';
import {
  STANDARD_PROFILE,
  ProfileError,
  loadProfile,
  parseProfile,
  profileEditionFor,
} from '../../src/onboarding/profile.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'profile-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const profileFile = new URL('../../profiles/', import.meta.url);
const readJson = async (name: string): Promise<unknown> =>
  JSON.parse(await readFile(new URL(name, profileFile), 'utf8'));

/** The ProfileError `fn` throws (fails the test if it throws nothing else). */
function errorOf(fn: () => unknown): ProfileError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ProfileError) return err;
    throw err;
  }
  throw new Error('expected a ProfileError');
}

const standardWith = (patch: Record<string, unknown>) => ({ ...structuredClone(STANDARD_PROFILE), ...patch });

describe('the built-in standard profile', () => {
  it('is the content of profiles/standard.json (the file people copy), and what an unset ONBOARDING_PROFILE gives', async () => {
    expect(await readJson('standard.json')).toEqual(STANDARD_PROFILE);
    expect(await loadProfile()).toBe(STANDARD_PROFILE);
    expect(await loadProfile(join(new URL('standard.json', profileFile).pathname))).toEqual(STANDARD_PROFILE);
  });

  it('is the rule docs/profiles.md describes: per-workload, workstations capped at 50 (+5), trial, company admin activated by e-mail, token for a week', () => {
    expect(STANDARD_PROFILE).toMatchObject({
      editions: ['pck_per_workload'],
      offering_items: {
        include: ['workstations', 'servers', 'storage'],
        quotas: { workstations: { value: 50, overage: 5 } },
      },
      storage: { infra_id: null },
      template_tenant_id: null,
      pricing_mode: 'trial',
      roles: ['company_admin'],
      activation: 'email',
      agent_token: { expires_in: 604_800 },
    });
  });

  it('cannot be changed by a caller, and parses again unchanged (chain jobs re-validate it)', () => {
    expect(() => {
      (STANDARD_PROFILE.roles as string[]).push('root_admin');
    }).toThrow(TypeError);
    expect(parseProfile(STANDARD_PROFILE, 'job')).toEqual(STANDARD_PROFILE);
  });

  it('the per-gigabyte example loads: per-gigabyte edition, production pricing, password activation', async () => {
    const profile = await loadProfile(new URL('per-gigabyte.json', profileFile).pathname);
    expect(profile).toMatchObject({
      editions: ['pck_per_gigabyte'],
      pricing_mode: 'production',
      activation: 'password',
    });
    expect(profile.offering_items.include).toContain('storage');
  });
});

describe('parseProfile', () => {
  it('fills every setting a minimal profile leaves out with the documented default', () => {
    expect(parseProfile({ name: 'minimal', editions: ['pck_per_gigabyte'] }, 'test')).toEqual({
      name: 'minimal',
      editions: ['pck_per_gigabyte'],
      offering_items: {},
      storage: { infra_id: null },
      template_tenant_id: null,
      pricing_mode: 'trial',
      roles: ['company_admin'],
      activation: 'email',
      agent_token: { expires_in: 604_800 },
    });
  });

  it('a misspelt key is an error naming the key and the file, not a silently ignored setting', () => {
    const err = errorOf(() => parseProfile(standardWith({ activaton: 'password' }), './x.json'));
    expect(err).toMatchObject({ field: 'activaton', source: './x.json' });
    expect(err.message).toBe('profile ./x.json: activaton: is not a profile setting (misspelt?)');

    const nested = errorOf(() =>
      parseProfile(standardWith({ storage: { infra_id: null, location: 'eu' } }), './x.json'),
    );
    expect(nested.field).toBe('storage.location');
  });

  it('a quota for an item the include list leaves out names the quota key', () => {
    const err = errorOf(() =>
      parseProfile(
        standardWith({ offering_items: { include: ['workstations', 'storage'], quotas: { foo: { value: 1 } } } }),
        './x.json',
      ),
    );
    expect(err.field).toBe('offering_items.quotas.foo');
    expect(err.message).toBe('profile ./x.json: offering_items.quotas.foo: is not in offering_items.include');
  });

  it('a quota keyed by the item name matches an include entry given as usage_name, and the reverse', () => {
    const byName = parseProfile(
      standardWith({
        offering_items: { include: ['workstations', 'storage'], quotas: { pw_base_workstations: { value: 10 } } },
      }),
      'test',
    );
    expect(byName.offering_items.quotas).toEqual({ pw_base_workstations: { value: 10, overage: null } });
    expect(() =>
      parseProfile(
        standardWith({
          offering_items: { include: ['pg_base_servers'], quotas: { servers: { value: 3, overage: 1 } } },
        }),
        'test',
      ),
    ).not.toThrow();
  });

  it.each([
    [{ editions: [] }, 'editions', 'at least one edition'],
    [{ editions: ['pck_per_gigabite'] }, 'editions[0]', 'must be one of pck_per_workload'],
    [{ editions: ['pck_per_workload', 'pck_per_workload'] }, 'editions', 'twice'],
    [{ roles: ['company_admin', 'overlord'] }, 'roles[1]', 'must be one of'],
    [{ storage: { infra_id: 'frankfurt' } }, 'storage.infra_id', 'must be a UUID'],
    [{ template_tenant_id: 42 }, 'template_tenant_id', 'must be a UUID'],
    [{ pricing_mode: 'suspended' }, 'pricing_mode', 'trial or production'],
    [{ activation: 'sms' }, 'activation', 'email, password or none'],
    [{ agent_token: { expires_in: MAX_REGISTRATION_TOKEN_SECONDS + 1 } }, 'agent_token.expires_in', 'at most one year'],
    [{ agent_token: { expires_in: 0 } }, 'agent_token.expires_in', 'at least 1 second'],
    [{ offering_items: { include: [] } }, 'offering_items.include', 'leave include out'],
    [
      { offering_items: { quotas: { workstations: { value: -1 } } } },
      'offering_items.quotas.workstations.value',
      '≥ 0',
    ],
    [
      { offering_items: { quotas: { workstations: { value: 1.5 } } } },
      'offering_items.quotas.workstations.value',
      'whole number',
    ],
    [
      { offering_items: { quotas: { workstations: { value: null, overage: 5 } } } },
      'offering_items.quotas.workstations.overage',
      'unlimited',
    ],
    [{ name: undefined }, 'name', 'is required'],
  ])('%j is refused, naming %s', (patch, field, reason) => {
    const err = errorOf(() => parseProfile(standardWith(patch), 'test'));
    expect(err.field).toBe(field);
    expect(err.reason).toContain(reason);
  });

  it('reports every problem of a profile at once, one line each', () => {
    const err = errorOf(() =>
      parseProfile({ name: '', editions: ['pck_per_workload'], activation: 'sms', colour: 'blue' }, 'p.json'),
    );
    expect(err.problems.map((p) => p.field).sort()).toEqual(['activation', 'colour', 'name']);
    expect(err.message.split('\n')).toHaveLength(3);
    expect(err.message.split('\n').every((line) => line.startsWith('profile p.json: '))).toBe(true);
  });

  it('unlimited quotas and template profiles are accepted', () => {
    const template = '3f0b6c1e-2a4d-4e5f-9a8b-7c6d5e4f3a2b';
    const profile = parseProfile(
      standardWith({ template_tenant_id: template, offering_items: { quotas: { storage: { value: null } } } }),
      'test',
    );
    expect(profile.template_tenant_id).toBe(template);
    expect(profile.offering_items.quotas).toEqual({ storage: { value: null, overage: null } });
  });
});

describe('loadProfile', () => {
  it('a missing file names the file and why', async () => {
    const path = join(dir, 'nope.json');
    const err = await loadProfile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProfileError);
    expect(err).toMatchObject({ source: path, field: '(file)' });
    expect((err as ProfileError).message).toContain(`profile ${path}: (file): cannot be read`);
    expect((err as ProfileError).message).toContain('ENOENT');
  });

  it('a file that is not JSON names the file and the parser complaint', async () => {
    const path = join(dir, 'broken.json');
    await writeFile(path, '{ "name": "broken", ');
    const err = await loadProfile(path).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProfileError);
    expect((err as ProfileError).message).toMatch(new RegExp(`^profile ${path}: \\(file\\): is not valid JSON: `));
  });

  it('an invalid profile names the file and the field; a BOM from a Windows editor is fine', async () => {
    const bad = join(dir, 'bad.json');
    await writeFile(bad, JSON.stringify(standardWith({ pricing_mode: 'free' })));
    await expect(loadProfile(bad)).rejects.toMatchObject({ source: bad, field: 'pricing_mode' });

    const bom = join(dir, 'bom.json');
    await writeFile(
      bom,
      `\uFEFF${JSON.stringify({ name: 'bom', editions: ['pck_per_workload'], activation: 'none' })}`,
    );
    expect((await loadProfile(bom)).activation).toBe('none');
  });
});

describe('profileEditionFor', () => {
  const twoEditions = parseProfile({ name: 'both', editions: ['pck_per_gigabyte', 'pck_per_workload'] }, 'test');

  it("is the customer's own edition when its request names one, else the profile's first", () => {
    expect(profileEditionFor(twoEditions, 'pck_per_workload')).toBe('pck_per_workload');
    expect(profileEditionFor(twoEditions)).toBe('pck_per_gigabyte');
    expect(profileEditionFor(twoEditions, null)).toBe('pck_per_gigabyte');
    expect(profileEditionFor(twoEditions, '')).toBe('pck_per_gigabyte');
  });
});

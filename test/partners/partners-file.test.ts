import { describe, expect, it } from 'vitest';
import { simPartnersEnvLines, simPartnersFile } from '../../src/cli/sim-partners-file.js';
import { parsePartnersFile, PartnersFileError, type PartnerDefaults } from '../../src/partners/partners-file.js';
import { UnknownPartnerError } from '../../src/partners/partner-set.js';
import type { RunningSimulator } from '../../src/simulator/index.js';

const env: Record<string, string> = {
  EU_ID: 'client-eu',
  EU_SECRET: 'secret-eu',
  US_ID: 'client-us',
  US_SECRET: 'secret-us',
  EU2_ID: 'client-eu-2',
  EU2_SECRET: 'secret-eu-2',
};
const defaults: PartnerDefaults = { rateLimit: 10, secret: (name) => env[name] };
const eu = {
  name: 'eu',
  base_url: 'https://eu2-cloud.acronis.com/api/2/',
  client_id_env: 'EU_ID',
  client_secret_env: 'EU_SECRET',
};
const us = {
  name: 'us',
  base_url: 'https://us5-cloud.acronis.com',
  client_id_env: 'US_ID',
  client_secret_env: 'US_SECRET',
  rate_limit: 50,
};

function refusal(json: unknown): PartnersFileError {
  try {
    parsePartnersFile(json, 'partners.json', defaults);
  } catch (err) {
    if (err instanceof PartnersFileError) return err;
    throw err;
  }
  throw new Error('the file was accepted');
}

describe('the partners file', () => {
  it('reads every partner, its data centre and its defaults; the first is the default unless named', () => {
    const set = parsePartnersFile({ partners: [eu, us] }, 'partners.json', defaults);
    expect(set.default.name).toBe('eu');
    expect(set.get('US')).toMatchObject({
      dataCenter: 'us5-cloud.acronis.com',
      dataCenterUrl: 'https://us5-cloud.acronis.com',
      clientId: 'client-us',
      clientSecret: 'secret-us',
      rateLimit: 50,
    });
    expect(set.get()).toMatchObject({ name: 'eu', dataCenterUrl: 'https://eu2-cloud.acronis.com', rateLimit: 10 });
    expect(set.dataCenters.map((dc) => [dc.id, dc.queueName, dc.primary])).toEqual([
      ['eu2-cloud.acronis.com', 'onboarding', true],
      ['us5-cloud.acronis.com', 'onboarding.us5-cloud.acronis.com', false],
    ]);
    expect(parsePartnersFile({ default: 'us', partners: [eu, us] }, 'f', defaults).dataCenters[0]?.id).toBe(
      'us5-cloud.acronis.com',
    );
  });

  it('gives partners sharing a data centre one budget at the lowest limit they state', () => {
    const eu2 = { ...eu, name: 'eu-resale', client_id_env: 'EU2_ID', client_secret_env: 'EU2_SECRET', rate_limit: 4 };
    const set = parsePartnersFile({ partners: [eu, eu2, us] }, 'f', defaults);
    expect(set.dataCenters).toHaveLength(2);
    expect(set.dataCenterOf('eu-resale')).toMatchObject({ id: 'eu2-cloud.acronis.com', rateLimit: 4 });
    expect(set.dataCenterOf('eu-resale').partners.map((p) => p.name)).toEqual(['eu', 'eu-resale']);
  });

  it('names an unknown partner and the known ones', () => {
    const set = parsePartnersFile({ partners: [eu, us] }, 'f', defaults);
    expect(() => set.get('asia')).toThrow(UnknownPartnerError);
    expect(() => set.get('asia')).toThrow('unknown partner "asia": this install serves "eu", "us"');
  });

  it('refuses two partners of one name, naming both', () => {
    const err = refusal({ partners: [eu, { ...us, name: 'eu' }] });
    expect(err.message).toBe(
      `partners file partners.json: partners[1].name: "eu" is also partners[0]'s name: each partner needs its own`,
    );
  });

  it('refuses one API client for two partners in one data centre, by variable or by value', () => {
    expect(refusal({ partners: [eu, { ...eu, name: 'eu-b' }] }).message).toContain(
      'partners "eu" and "eu-b" use the same API client in the same data centre',
    );
    env.EU_ID_AGAIN = 'client-eu';
    const again = { ...eu, name: 'eu-c', client_id_env: 'EU_ID_AGAIN' };
    expect(refusal({ partners: [eu, again] }).field).toBe('partners[1].client_id_env');
    // The same client id in another data centre is another client.
    expect(parsePartnersFile({ partners: [eu, { ...us, client_id_env: 'EU_ID' }] }, 'f', defaults).all).toHaveLength(2);
  });

  it('refuses an unknown default, a missing variable, a misspelt key and a bad URL, naming the field', () => {
    expect(refusal({ default: 'asia', partners: [eu] })).toMatchObject({ field: 'default' });
    expect(refusal({ partners: [{ ...eu, client_secret_env: 'NOT_SET' }] }).message).toContain(
      'partners[0].client_secret_env: partner "eu": the environment variable NOT_SET is not set',
    );
    expect(refusal({ partners: [{ ...eu, rate_limt: 5 }] })).toMatchObject({
      field: 'partners[0].rate_limt',
      reason: 'is not a partner setting (misspelt?)',
    });
    expect(refusal({ partners: [{ ...eu, base_url: 'ftp://x' }] }).field).toBe('partners[0].base_url');
    expect(refusal({ partners: [{ ...eu, name: 'EU West' }] }).field).toBe('partners[0].name');
    expect(refusal({ partners: [] }).field).toBe('partners');
  });

  it('reads the file `sim --datacenters 2 --partners-file` writes, with the variables it prints', () => {
    const sims = [1, 2].map((i) => ({
      url: `http://127.0.0.1:40${i}0`,
      seed: { clientId: `id-${i}`, clientSecret: `secret-${i}` },
    })) as unknown as RunningSimulator[];
    const lines = simPartnersEnvLines('/tmp/p.json', sims).slice(1);
    const simEnv = Object.fromEntries(lines.map((l) => l.split('=') as [string, string]));
    const set = parsePartnersFile(simPartnersFile(sims, [100, 50]), 'p.json', {
      rateLimit: 10,
      secret: (n) => simEnv[n],
    });
    expect(set.all.map((p) => [p.name, p.dataCenter, p.clientId, p.rateLimit])).toEqual([
      ['dc1', '127.0.0.1:4010', 'id-1', 100],
      ['dc2', '127.0.0.1:4020', 'id-2', 50],
    ]);
  });
});

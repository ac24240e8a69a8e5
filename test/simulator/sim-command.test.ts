import { describe, expect, it } from 'vitest';
import { refusedSim, startSimProcess } from '../helpers/sim-process.js';
import { requestToken } from '../helpers/simulator.js';
import { until } from '../helpers/wait.js';

/** `acronis-onboard sim ARGS` once it has printed its export lines. */
const startSim = (args: string[]) => startSimProcess(args, 'ACRONIS_CLIENT_SECRET=');

describe('acronis-onboard sim', () => {
  it('prints the URL, the seed and the export lines, serves the API, and stops cleanly on SIGTERM', async () => {
    const { child, stdout, stderr, exited } = await startSim([
      '--seed',
      'cli-test',
      '--token-ttl',
      '60',
      '--fault',
      '5xx:0',
      '--validate-responses',
      '--storages',
      '2',
      '--customers',
      '3',
      '--fault',
      '429:0',
      '--rate-limit',
      '100',
      '--rate-limit-at',
      '10=50',
      '--rate-limit-at',
      '20=none',
      '--no-retry-after',
    ]);
    try {
      const value = (name: string) => new RegExp(`export ${name}=(\\S+)`).exec(stdout)?.[1] as string;
      const baseUrl = value('ACRONIS_BASE_URL');
      const clientId = value('ACRONIS_CLIENT_ID');
      const secret = value('ACRONIS_CLIENT_SECRET');
      expect(stdout).toContain('Admin password');
      expect(stdout).toContain('Customers         3 existing');
      expect(stdout.match(/^Storage .*\(.*, backup\)$/gm)).toHaveLength(2);
      expect(stdout).toMatch(/^Storage .*\(ba2976d0-c13e-4661-ae60-b4593583fce2, disaster_recovery\)$/m);
      const response = await requestToken(baseUrl, clientId, secret);
      expect(response.status).toBe(200);
      expect(((await response.json()) as { expires_in: number }).expires_in).toBe(60);
      const config = (await (await fetch(`${baseUrl}/__sim/config`)).json()) as Record<string, unknown>;
      expect(config).toMatchObject({
        validateResponses: true,
        seed: 'cli-test',
        faults: [
          { kind: '5xx', probability: 0 },
          { kind: '429', probability: 0, retryAfter: null },
        ],
        rateLimit: 100,
        rateLimitChanges: [
          { afterMs: 10_000, rateLimit: 50 },
          { afterMs: 20_000, rateLimit: null },
        ],
        retryAfter: false,
        storages: 2,
        customers: 3,
      });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    // No library deprecation notice (fastify's FSTDEP023 once came with every start).
    expect(stderr()).not.toMatch(/FSTDEP|DeprecationWarning|FastifyDeprecation/);
  });

  it('a stop does not wait for an answer held by --latency: SIGTERM exits 0 at once', async () => {
    const { child, stdout, exited } = await startSim(['--latency', '30000']);
    const baseUrl = /export ACRONIS_BASE_URL=(\S+)/.exec(stdout)?.[1];
    const held = fetch(`${baseUrl}/api/2/idp/token`, { method: 'POST' }).catch(() => 'cut');
    // The request is in the simulator's latency wait before the stop comes: its arrival is counted
    // (maxRequestsPerSecond counts arrivals), its answer is 30 s away.
    await until(async () => {
      const stats = (await (await fetch(`${baseUrl}/__sim/stats`)).json()) as { maxRequestsPerSecond: number };
      return stats.maxRequestsPerSecond >= 1;
    }, 'the held request to reach the simulator');
    const stoppedAt = Date.now();
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - stoppedAt).toBeLessThan(5000);
    expect(await held).toBe('cut');
  });

  const refusal = refusedSim;

  it('refuses a malformed --fault with exit code 2', async () => {
    const failure = await refusal('--fault', 'explode:2');
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('KIND[:PROBABILITY]');
  });

  it('refuses a malformed --rate-limit-at with exit code 2', async () => {
    const failure = await refusal('--rate-limit-at', '10');
    expect(failure.code).toBe(2);
    expect(failure.stderr).toContain('SECONDS=N');
  });

  it('refuses a world out of bounds with exit code 2', async () => {
    const customers = await refusal('--customers', '50001');
    expect(customers.code).toBe(2);
    expect(customers.stderr).toContain('--customers must be an integer in 0..50000');
    expect((await refusal('--storages', '0')).stderr).toContain('--storages must be an integer in 1..20');
  });
});

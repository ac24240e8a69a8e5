import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDashboardPipeline, type DashboardPipeline } from '../helpers/dashboard.js';

let t: DashboardPipeline;

beforeAll(async () => {
  t = await startDashboardPipeline({ label: 'dash-ready' });
});
afterAll(async () => {
  await t?.close();
});

const get = async (path: string) => {
  const response = await fetch(`${t.url}${path}`);
  return { status: response.status, body: (await response.json()) as unknown };
};

describe('GET /readyz', () => {
  it('is 503 while no worker runs, 200 once one reports, and 503 again when it stops; /healthz stays 200', async () => {
    expect(await get('/readyz')).toEqual({ status: 503, body: { redis: 'ok', workers: 0 } });
    expect(await get('/healthz')).toEqual({ status: 200, body: { redis: 'ok' } });

    const workers = await t.startWorkers();
    expect(await get('/readyz')).toEqual({ status: 200, body: { redis: 'ok', workers: 1 } });
    await t.startWorkers();
    expect(await get('/readyz')).toEqual({ status: 200, body: { redis: 'ok', workers: 2 } });

    await workers.close();
    t.workers.splice(t.workers.indexOf(workers), 1);
    expect(await get('/readyz')).toEqual({ status: 200, body: { redis: 'ok', workers: 1 } });
    await t.workers[0]!.close();
    t.workers.length = 0;
    expect(await get('/readyz')).toEqual({ status: 503, body: { redis: 'ok', workers: 0 } });
    expect(await get('/healthz')).toEqual({ status: 200, body: { redis: 'ok' } });
  });
});

import { describe, expect, it } from 'vitest';
import { AcronisApiError } from '../../src/acronis/errors.js';
import { retryAtStart } from '../../src/app/start-retry.js';
import { createLogger } from '../../src/logger.js';

const logger = createLogger({ level: 'silent' });
const never = new AbortController().signal;
const unavailable = () =>
  new AcronisApiError('GET /clients/x → 503', { kind: 'http', method: 'GET', path: '/clients/x', status: 503 });

describe('retryAtStart with a bound (one-shot commands)', () => {
  it('asks again while the answer is transient and returns the first answer', async () => {
    let calls = 0;
    const value = await retryAtStart(
      'api',
      async () => {
        calls++;
        if (calls < 3) throw unavailable();
        return 'tenant';
      },
      { logger, stop: never, firstDelayMs: 5, giveUpAfterMs: 1000 },
    );
    expect({ value, calls }).toEqual({ value: 'tenant', calls: 3 });
  });

  it('throws the last transient error once the next wait would pass the bound', async () => {
    let calls = 0;
    const attempt = async (): Promise<string> => {
      calls++;
      throw unavailable();
    };
    const failure = retryAtStart('api', attempt, { logger, stop: never, firstDelayMs: 20, giveUpAfterMs: 100 });
    await expect(failure).rejects.toBeInstanceOf(AcronisApiError);
    // 20 + 40 ms waited, the next 80 would pass 100: three attempts in all.
    expect(calls).toBe(3);
  });

  it('does not ask again what the API refuses for good', async () => {
    let calls = 0;
    const refused = new AcronisApiError('POST /idp/token → 401', {
      kind: 'http',
      method: 'POST',
      path: '/idp/token',
      status: 401,
    });
    const attempt = async (): Promise<string> => {
      calls++;
      throw refused;
    };
    await expect(retryAtStart('api', attempt, { logger, stop: never, giveUpAfterMs: 10_000 })).rejects.toBe(refused);
    expect(calls).toBe(1);
  });
});

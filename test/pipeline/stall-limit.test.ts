import { describe, expect, it } from 'vitest';
import { MAX_STALLS, unfinishedReason } from '../../src/workers/step-worker.js';

// BullMQ's own words when its stalled check gives a job up (bullmq's moveStalledJobsToWait script).
const BULLMQ_STALLED = 'job stalled more than allowable limit';

describe('a step job BullMQ failed by itself', () => {
  it('cut off too often: said in words ops can act on, and retryable', () => {
    const { reason, retryable } = unfinishedReason('create-tenant', new Error(BULLMQ_STALLED));
    expect(retryable).toBe(true);
    expect(reason).toContain(`create-tenant: its run was cut off more than ${MAX_STALLS} times`);
    expect(reason).toContain('retry the customer');
    expect(reason).not.toContain(BULLMQ_STALLED);
  });

  it('anything else keeps its own message and is not called retryable', () => {
    expect(unfinishedReason('create-user', new Error('job started more than allowable limit'))).toEqual({
      reason: 'create-user: job started more than allowable limit',
      retryable: false,
    });
  });

  it('tolerates more cut-off runs than a fault soak brings (4 worker kills and a Redis restart)', () => {
    expect(MAX_STALLS).toBeGreaterThanOrEqual(5);
  });
});

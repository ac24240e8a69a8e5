import { describe, expect, it } from 'vitest';
import { StatsRecorder } from '../../src/simulator/stats.js';

describe('arrival windows', () => {
  it('count the most arrivals in any sliding one- and three-second window', () => {
    const stats = new StatsRecorder();
    // Sent 20 a second, evenly, for 4 s; the one sent at 3 s arrives 60 ms late.
    const arrivals = Array.from({ length: 81 }, (_, i) => (i === 60 ? 3_060 : i * 50)).sort((a, b) => a - b);
    for (const at of arrivals) stats.arrive(at);
    const { maxRequestsPerSecond, maxRequestsPer3Seconds } = stats.snapshot();
    // (3 s, 4 s] holds 3.05 … 4.0 and the late one: one over the rate sent.
    expect(maxRequestsPerSecond).toBe(21);
    // Three seconds hold the rate: the late one left one window only to join the next.
    expect(maxRequestsPer3Seconds).toBe(60);
  });

  it('start again from nothing after a reset', () => {
    const stats = new StatsRecorder();
    for (let i = 0; i < 10; i++) stats.arrive(i);
    stats.reset();
    stats.arrive(5_000);
    expect(stats.snapshot()).toMatchObject({ maxRequestsPerSecond: 1, maxRequestsPer3Seconds: 1 });
  });

  it('keep the wall-clock times of the first and the last arrival since the reset', () => {
    const stats = new StatsRecorder();
    expect(stats.snapshot().firstArrivalAt).toBeUndefined();
    stats.arrive(0, 1_700_000_000_000);
    stats.arrive(5, 1_700_000_000_005);
    stats.arrive(9, 1_700_000_000_009);
    expect(stats.snapshot()).toMatchObject({ firstArrivalAt: 1_700_000_000_000, lastArrivalAt: 1_700_000_000_009 });
    stats.reset();
    expect(stats.snapshot().lastArrivalAt).toBeUndefined();
  });
});

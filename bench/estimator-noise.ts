/**
 * The 429 estimator (src/acronis/rate-estimator.ts) alone against random 429s, no API limit:
 * how often scattered noise is read as a limit, and the mean rate it leaves (BENCHMARKS.md "The
 * request budget under real 429s"). The model of test/acronis/rate-estimator.test.ts: one request
 * at every slot the plan grants, zero latency, each 429 judged on the last 2 s.
 *
 *   npx tsx bench/estimator-noise.ts [seconds=12000] [share=0.03]
 */
import { drive } from '../test/helpers/estimator-model.js';

const seconds = Number(process.argv[2] ?? 12_000);
const share = Number(process.argv[3] ?? 0.03);

function run(seed: number): { decisions: Record<string, number>; meanRate: number } {
  const { sent, limits } = drive({ seconds, limitAt: () => Infinity, noise: share, seed });
  const decisions: Record<string, number> = {};
  for (const { why } of limits) decisions[why] = (decisions[why] ?? 0) + 1;
  return { decisions, meanRate: sent.length / seconds };
}

console.log(`${share * 100} % of answers 429 at random, ${seconds} s at up to 95/s`);
for (const seed of [21, 22, 23]) {
  const { decisions, meanRate } = run(seed);
  console.log(`seed ${seed}: mean rate ${meanRate.toFixed(1)}/s, limits read: ${JSON.stringify(decisions)}`);
}

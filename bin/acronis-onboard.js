#!/usr/bin/env -S node --max-semi-space-size=2 --max-old-space-size=256
// The command runs the compiled JavaScript in dist/ (`npm run build`; `npm ci` builds it through
// `prepare`). In a source checkout it refuses a dist/ older than the sources, so a stale build
// never runs; an installed package or image ships dist/ without src/ and skips the check.
// The #! line keeps V8's heap small: a worker's live heap is ~25 MB, but with Node's defaults
// V8 lets garbage pile up to a peak of ~165 MB (BENCHMARKS.md "Worker memory").
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { staleInput } from './build-freshness.js';

const root = fileURLToPath(new URL('..', import.meta.url));
if (existsSync(new URL('../src', import.meta.url))) {
  const stale = staleInput(root);
  if (stale) {
    console.error(`acronis-onboard: dist/ is older than ${stale}; run \`npm run build\` first`);
    process.exit(2);
  }
}
await import('../dist/cli.js');

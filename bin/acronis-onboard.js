#!/usr/bin/env node
// The command runs the compiled JavaScript in dist/ (`npm run build`; `npm ci` builds it through
// `prepare`). In a source checkout it refuses a dist/ older than the sources, so a stale build
// never runs; an installed package or image ships dist/ without src/ and skips the check.
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

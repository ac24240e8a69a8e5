// `npm run build` (also `prepare`, so `npm ci` builds): dist/ from src/ with tsc, the Lua
// scripts and the dashboard's views and static files beside it, and the stamp bin/build-freshness.js compares the sources with.
// `--if-stale` builds only when a source changed since (vitest's global setup, the benches).
import { execFileSync } from 'node:child_process';
import { cpSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILD_STAMP, staleInput } from '../bin/build-freshness.js';

const root = fileURLToPath(new URL('..', import.meta.url));
if (process.argv.includes('--if-stale') && staleInput(root) === undefined) process.exit(0);

// Dated before compiling: a source saved while tsc runs is newer than the build.
const startedAt = new Date();
rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
for (const assets of ['redis/lua', 'dashboard/views', 'dashboard/static']) {
  cpSync(join(root, 'src', assets), join(root, 'dist', assets), { recursive: true });
}
writeFileSync(join(root, BUILD_STAMP), `${startedAt.toISOString()}\n`);
utimesSync(join(root, BUILD_STAMP), startedAt, startedAt);

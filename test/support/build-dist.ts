import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

/**
 * Tests spawn bin/acronis-onboard.js, which runs dist/: it is rebuilt here, once per run, when
 * a source changed since the last build, so no test runs old code (the command itself refuses
 * a stale dist/ too).
 */
export default function buildDist(): void {
  const root = resolve(import.meta.dirname, '../..');
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], { cwd: root, stdio: 'inherit' });
}

// Whether dist/ was built from the sources as they are now. The command runs the compiled
// JavaScript in dist/; in a source checkout, a dist/ older than a source would run old code
// (and tests that spawn the command would test it), so the command and the build both ask here.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Written by scripts/build.mjs, dated when its build started. */
export const BUILD_STAMP = 'dist/.build-stamp';
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json'];

/** The first input changed since the last build (a file, or a folder whose entries changed), or undefined. */
export function staleInput(root) {
  const stamp = join(root, BUILD_STAMP);
  if (!existsSync(stamp)) return BUILD_STAMP;
  const builtAt = statSync(stamp).mtimeMs;
  for (const input of INPUTS) {
    const path = join(root, input);
    if (!existsSync(path)) continue;
    if (statSync(path).mtimeMs > builtAt) return input;
    if (!statSync(path).isDirectory()) continue;
    for (const entry of readdirSync(path, { recursive: true, withFileTypes: true })) {
      const file = join(entry.parentPath, entry.name);
      if (statSync(file).mtimeMs > builtAt) return relative(root, file);
    }
  }
  return undefined;
}

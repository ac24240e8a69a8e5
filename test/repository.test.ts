import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The repository stands alone: a clone with nothing beside it must build, test and read well,
 * so no tracked file may point at a path outside it. `.ci/run` is the one exception allowed to
 * know about the machine it runs on; this file names such paths only as probes of its own check.
 */
const ROOT = resolve(import.meta.dirname, '..');
const ALLOWED = new Set(['.ci/run', 'test/repository.test.ts']);
/** Text we never read: binary files and generated data. */
const SKIP = /\.(png|jpe?g|gif|ico|woff2?|gz|zip)$|^package-lock\.json$|openapi-subset\.json$/;
/** A parent-directory walk: `../`, `../../` … (or with backslashes). */
const PARENT_WALK = /(?:\.\.[/\\])+/g;
/**
 * Machine paths outside any clone: the workspace root, and the sibling folder of background notes
 * beside it. Built from their names so that this file, which must name them, does not spell them.
 */
const WORKSPACE = 'work';
const SIBLING = 'shared';
const MACHINE_PATHS = [new RegExp(`/${WORKSPACE}/`), new RegExp(`\\.\\.[/\\\\]${SIBLING}\\b`)];

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '' && !ALLOWED.has(f) && !SKIP.test(f));
}

/** Places in `file` that name a path outside the repository, as `line: text`. */
function outsidePaths(file: string): string[] {
  const depth = dirname(file) === '.' ? 0 : dirname(file).split('/').length;
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  return lines.flatMap((line, i) => {
    const escapes = [...line.matchAll(PARENT_WALK)].some((m) => m[0].length / 3 > depth);
    const machine = MACHINE_PATHS.some((re) => re.test(line));
    return escapes || machine ? [`${file}:${i + 1}: ${line.trim().slice(0, 160)}`] : [];
  });
}

describe('the repository stands alone', () => {
  it('no tracked file but .ci/run names a path outside the repository', () => {
    const files = trackedFiles();
    expect(files.length).toBeGreaterThan(100);
    expect(files.flatMap(outsidePaths)).toEqual([]);
  });

  it('the check itself finds such a path', () => {
    // Guards the guard: a walk above the root, and the machine paths, are caught.
    const probe = (text: string, depth: number) =>
      [...text.matchAll(PARENT_WALK)].some((m) => m[0].length / 3 > depth) || MACHINE_PATHS.some((re) => re.test(text));
    expect(probe(`readFileSync('../${SIBLING}/x.json')`, 0)).toBe(true);
    expect(probe(`see ../${SIBLING}/DESIGN.md`, 1)).toBe(true);
    expect(probe("import '../../../outside.js'", 2)).toBe(true);
    expect(probe("import '../../src/config.js'", 2)).toBe(false);
    expect(probe(`see /${WORKSPACE}/${SIBLING}/DESIGN.md`, 3)).toBe(true);
  });
});

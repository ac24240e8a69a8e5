import { execFile } from 'node:child_process';
import { dirname } from 'node:path';

/**
 * True when `path` lies in a git work tree that does not ignore it: a file of secrets written
 * there is one `git add .` away from the history. False outside a work tree, for an ignored
 * path, and when git is not installed (nothing to warn about then).
 */
export function trackableByGit(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    // `git check-ignore` exits 0 for an ignored path, 1 for one it would track, 128 outside a work tree.
    execFile('git', ['check-ignore', '-q', path], { cwd: dirname(path) }, (err) => {
      resolve((err as { code?: unknown } | null)?.code === 1);
    });
  });
}

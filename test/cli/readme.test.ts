import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildProgram } from '../../src/cli/program.js';

/**
 * The README's paths work as written: the command is one a clone can run (the package is not on
 * npm, so `npx acronis-onboard` outside the clone answers 404), the simulator path sits right
 * under the demo in two terminals, and every command and option it names exists.
 */
const README = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');

function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`README.md has no section "${title}"`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

const sections = () => [...README.matchAll(/^## (.+)$/gm)].map((m) => m[1]);
const shellLines = (text: string) =>
  [...text.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1]!.split('\n').map((l) => l.trim()));

describe('README', () => {
  it('puts the simulator path right under the demo: two terminals, with start', () => {
    const titles = sections();
    expect(titles[titles.indexOf('Two commands') + 1]).toBe('Try it against the simulator');
    const tryIt = section('Try it against the simulator');
    expect(tryIt).toContain('# terminal 1');
    expect(tryIt).toContain('# terminal 2');
    expect(tryIt).not.toContain('terminal 3');
    expect(shellLines(tryIt).some((l) => /^acronis-onboard start\b/.test(l))).toBe(true);
  });

  it('gets the command from the clone, and no shell line runs npx outside it', () => {
    expect(section('Try it against the simulator')).toContain('npm link');
    expect(section('Going live against a real data centre')).toContain('npm link');
    expect(shellLines(README).filter((l) => l.includes('npx acronis-onboard'))).toEqual([]);
  });

  it('names only commands and options that exist', async () => {
    const program = await buildProgram();
    const named = shellLines(README).flatMap((line) => {
      const m = /(?:^|[\s;&(])acronis-onboard ([a-z-]+)(.*)$/.exec(line.split(' #')[0]!);
      return m ? [{ line, name: m[1]!, flags: [...m[2]!.matchAll(/(--[a-z-]+)/g)].map((f) => f[1]!) }] : [];
    });
    expect(named.length).toBeGreaterThan(10);
    for (const { line, name, flags } of named) {
      const command = program.commands.find((c) => c.name() === name);
      expect(command, line).toBeDefined();
      const options = new Set(command!.options.map((o) => o.long));
      for (const flag of flags) expect(options.has(flag), `${line}: ${flag}`).toBe(true);
    }
  });
});

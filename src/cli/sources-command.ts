import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type { App } from '../app/app.js';
import { readNamedSecrets } from '../config.js';
import { loadProfile } from '../onboarding/profile.js';
import { checkSourcePartners, loadSourceFile, type SourceConfig } from '../sources/source-file.js';
import { openSources } from '../sources/source-set.js';
import { withApp } from './with-app.js';
import { terminalJson, tty } from './terminal-text.js';

/**
 * `acronis-onboard sources [--format text|json]`: every source file of SOURCES_DIR checked on its
 * own (the file, the environment variables it names, its profile) and its API reached with the
 * kind's `checkApi`, as `check` does for Acronis: one line per source, exit 2 when any is wrong.
 */
export interface SourceVerdict {
  source: string;
  kind?: string;
  ok: boolean;
  /** What is wrong, naming the file and setting, or what was proved. */
  detail: string;
}

/** How long one source's API may take to answer the check. */
const CHECK_TIMEOUT_MS = 15_000;

export function registerSourcesCommand(program: Command): void {
  program
    .command('sources')
    .description("check every source of SOURCES_DIR: its file, the variables it names, and its system's API")
    .addOption(new Option('--format <format>', 'text or json').choices(['text', 'json']).default('text'))
    .action((opts: { format: string }) =>
      withApp({}, async (app) => {
        if (app.config.SOURCES_DIR === undefined) {
          console.error('SOURCES_DIR is not set: no source is configured (docs/sources.md)');
          process.exitCode = 2;
          return;
        }
        const verdicts = await checkSources(app, app.config.SOURCES_DIR);
        if (opts.format === 'json') console.log(terminalJson(verdicts));
        else printVerdicts(verdicts);
        process.exitCode = verdicts.every((v) => v.ok) && verdicts.length > 0 ? 0 : 2;
      }),
    );
}

export async function checkSources(app: App, dir: string): Promise<SourceVerdict[]> {
  let names: string[];
  try {
    names = (await readdir(dir)).flatMap((f) => (f.endsWith('.json') ? [f.slice(0, -'.json'.length)] : [])).sort();
  } catch (err) {
    return [{ source: '(SOURCES_DIR)', ok: false, detail: `${dir} cannot be read: ${(err as Error).message}` }];
  }
  if (names.length === 0) return [{ source: '(SOURCES_DIR)', ok: false, detail: `${dir} holds no <name>.json file` }];
  return Promise.all(names.map((name) => checkSource(app, join(dir, `${name}.json`), name)));
}

async function checkSource(app: App, file: string, name: string): Promise<SourceVerdict> {
  let config: SourceConfig;
  try {
    config = await loadSourceFile(file);
    checkSourcePartners(config, app.partnerNames);
  } catch (err) {
    return { source: name, ok: false, detail: (err as Error).message };
  }
  const verdict = { source: name, kind: config.kind };
  try {
    const sources = await openSources([config], {
      redis: app.redis,
      keys: app.keys,
      logger: app.logger,
      secrets: (names) => readNamedSecrets(names),
      // The profile file is read and checked; its offer against the partner's is serve's to check.
      profileFor: async (c) => {
        const path = c.profile ?? app.config.ONBOARDING_PROFILE;
        return { profile: await loadProfile(path), profileSource: path ?? 'built-in standard' };
      },
    });
    const source = sources.get(name)!;
    const signal = AbortSignal.timeout(CHECK_TIMEOUT_MS);
    await source.kind.checkApi(source.context(app.logger, signal));
  } catch (err) {
    return { ...verdict, ok: false, detail: (err as Error).message };
  }
  return { ...verdict, ok: true, detail: 'ok (file, variables and API checked)' };
}

function printVerdicts(verdicts: readonly SourceVerdict[]): void {
  const width = Math.max(...verdicts.map((v) => v.source.length), 6) + 2;
  for (const v of verdicts) {
    const kind = v.kind ? `${v.kind}  ` : '';
    console.log(tty`${v.source.padEnd(width)}${kind}${v.ok ? '' : 'error: '}${v.detail}`);
  }
}

import type { Command } from 'commander';
import type { ConfigKey } from '../config.js';

/**
 * The end of each command's `--help`: the environment variables it reads (docs/configuration.md
 * says what each means) and the page that tells the command. One table, so a command added
 * without its line stops every `--help` test rather than going out undocumented.
 */
interface CommandHelp {
  reads: readonly ConfigKey[];
  /** A line after `Environment:` for what the command reads by other names. */
  also?: string;
  docs: string;
}

const REDIS: readonly ConfigKey[] = ['REDIS_URL', 'QUEUE_PREFIX'];
const API: readonly ConfigKey[] = [
  'ACRONIS_BASE_URL',
  'ACRONIS_CLIENT_ID',
  'ACRONIS_CLIENT_SECRET',
  'ACRONIS_PARENT_TENANT_ID',
  'ACRONIS_RATE_LIMIT',
  'ACRONIS_RATE_CEILING',
  'ACRONIS_TIMEOUT_MS',
];
const SECRETS: readonly ConfigKey[] = ['SECRETS_KEY', 'SECRETS_KEY_PREVIOUS'];
const ENQUEUE: readonly ConfigKey[] = ['STEP_ATTEMPTS', 'STEP_BACKOFF_MS', 'ONBOARDING_PROFILE'];
const WORKERS: readonly ConfigKey[] = ['WORKER_CONCURRENCY', 'JOB_LOCK_MS', 'SHUTDOWN_TIMEOUT_MS'];
const SERVER: readonly ConfigKey[] = [
  'HOST',
  'PORT',
  'WEBHOOK_SECRET',
  'WEBHOOK_SECRET_PREVIOUS',
  'CALLBACK_SECRET',
  'CALLBACK_SECRET_PREVIOUS',
  'CALLBACK_ALLOWED_HOSTS',
  'CALLBACK_ALLOW_HTTP',
  'DASHBOARD_USER',
  'DASHBOARD_PASSWORD',
  'METRICS_TOKEN',
  'SHUTDOWN_TIMEOUT_MS',
];
const LOGS: readonly ConfigKey[] = ['LOG_LEVEL'];
/** The sources' secrets are in variables of the operator's naming, so no table can list them. */
const SOURCE_SECRETS =
  'Source secrets: the variables each source file in SOURCES_DIR names in its *_env fields (e.g. "secret_env": "SHOP_WEBHOOK_SECRET"), from the environment or .env; one not set stops the start naming it (docs/sources.md)';

const HELP: Readonly<Record<string, CommandHelp>> = {
  demo: {
    reads: ['REDIS_URL', ...API, 'SECRETS_KEY', 'WEBHOOK_SECRET', 'CALLBACK_SECRET', ...LOGS],
    docs: 'docs/commands.md#demo',
  },
  sim: { reads: [], docs: 'docs/simulator.md#acronis-onboard-sim' },
  bootstrap: { reads: [], docs: 'docs/commands.md#bootstrap' },
  check: { reads: [...REDIS, ...API, ...SECRETS, ...LOGS], docs: 'docs/commands.md#the-commands' },
  work: { reads: [...REDIS, ...API, ...SECRETS, ...ENQUEUE, ...WORKERS, ...LOGS], docs: 'docs/pipeline.md' },
  import: { reads: [...REDIS, ...API, ...SECRETS, ...ENQUEUE, 'SHUTDOWN_TIMEOUT_MS', ...LOGS], docs: 'docs/csv.md' },
  status: { reads: [...REDIS, ...SECRETS, ...LOGS], docs: 'docs/commands.md#the-commands' },
  results: { reads: [...REDIS, 'ACRONIS_BASE_URL', ...SECRETS, ...LOGS], docs: 'docs/commands.md#results' },
  retry: {
    reads: [...REDIS, 'STEP_ATTEMPTS', 'STEP_BACKOFF_MS', ...SECRETS, ...LOGS],
    docs: 'docs/troubleshooting.md#retrying-failed-customers',
  },
  suspend: {
    reads: [...REDIS, ...API, ...SECRETS, 'STEP_ATTEMPTS', 'STEP_BACKOFF_MS', ...LOGS],
    docs: 'docs/lifecycle.md',
  },
  resume: {
    reads: [...REDIS, ...API, ...SECRETS, 'STEP_ATTEMPTS', 'STEP_BACKOFF_MS', ...LOGS],
    docs: 'docs/lifecycle.md',
  },
  offboard: {
    reads: [...REDIS, ...API, ...SECRETS, 'STEP_ATTEMPTS', 'STEP_BACKOFF_MS', 'OFFBOARD_GRACE_DAYS', ...LOGS],
    docs: 'docs/lifecycle.md',
  },
  change: { reads: [...REDIS, ...API, ...SECRETS, ...ENQUEUE, ...LOGS], docs: 'docs/lifecycle.md' },
  'resend-activation': {
    reads: [...REDIS, ...API, ...SECRETS, ...LOGS],
    docs: 'docs/pipeline.md#at-least-once-made-safe',
  },
  serve: {
    reads: [...REDIS, ...API, ...SECRETS, ...ENQUEUE, ...SERVER, 'SOURCES_DIR', ...LOGS],
    also: SOURCE_SECRETS,
    docs: 'docs/dashboard.md, docs/webhook.md',
  },
  start: {
    reads: [...REDIS, ...API, ...SECRETS, ...ENQUEUE, ...WORKERS, ...SERVER, 'SOURCES_DIR', ...LOGS],
    also: SOURCE_SECRETS,
    docs: 'docs/commands.md#the-commands, docs/dashboard.md',
  },
  sources: {
    reads: [...REDIS, 'SOURCES_DIR', 'ONBOARDING_PROFILE', ...SECRETS, ...LOGS],
    docs: 'docs/sources.md, docs/commands.md#sources',
  },
  reconcile: { reads: [...REDIS, ...API, ...SECRETS, 'ONBOARDING_PROFILE', ...LOGS], docs: 'docs/reconcile.md' },
  reseal: { reads: [...REDIS, ...SECRETS, ...LOGS], docs: 'docs/security.md#rotating-secrets_key' },
};

/** Adds each command's footer; a command without a line in the table is a programming error. */
export function describeCommands(program: Command): void {
  for (const command of program.commands) {
    const help = HELP[command.name()];
    if (!help) throw new Error(`command ${command.name()} has no help footer in src/cli/command-help.ts`);
    const reads =
      help.reads.length > 0
        ? `${[...new Set(help.reads)].join(', ')} (from the environment or .env; each one: docs/configuration.md)`
        : 'none';
    const also = help.also ? `\n${wrapped(help.also)}` : '';
    command.addHelpText('after', `\n${wrapped(`Environment: ${reads}`)}${also}\nDocs: ${help.docs}`);
  }
  program.addHelpText(
    'after',
    '\nEach command: acronis-onboard <command> --help. Start with README.md; every command: docs/commands.md',
  );
}

/** Words on lines of at most `width`, the later lines indented, as commander lays out its own help. */
function wrapped(text: string, width = 100): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = `  ${word}`;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  return [...lines, line].join('\n');
}

import { readdir } from 'node:fs/promises';
import { readJsonFile } from '../text/json-file.js';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { fieldPath } from '../text/field-path.js';
import { PARTNER_NAME, UnknownPartnerError } from '../partners/partner-set.js';
import { mappingSchema } from './mapping.js';
import { sourceActionsSchema } from './source-actions.js';
import { triggerSchema } from './trigger.js';
import { SOURCE_KINDS, type KindName } from './kinds.js';

/**
 * A source's configuration (docs/sources.md "The source file"): one JSON file per source in
 * SOURCES_DIR, named `<name>.json`; the name is its route `/webhooks/sources/<name>`. The common
 * part is checked here, the kind's own part (`settings`) by its kind's schema. Strict: a misspelt
 * key is an error naming it. Secrets are never in the file, only the names of the environment
 * variables that hold them.
 */

export const SOURCE_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

export const sourceFileSchema = z.strictObject({
  kind: z.enum(Object.keys(SOURCE_KINDS) as [KindName, ...KindName[]], {
    error: `must be one of ${Object.keys(SOURCE_KINDS).join(', ')}`,
  }),
  /**
   * The URL the sender calls and signs, e.g. https://onboard.example.com/webhooks/sources/shop: a
   * proxy in front changes what the server sees. Absent: the URL as received.
   */
  public_url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  /** The source's API, all processes together (a Redis-shared schedule, like ACRONIS_RATE_LIMIT). */
  rate_limit: z
    .strictObject({
      per_second: z.number({ error: 'must be a number' }).positive('must be above 0').max(1000, 'must be ≤ 1000'),
    })
    .default({ per_second: 5 }),
  /**
   * The partner its customers are onboarded under (docs/partners.md) unless the mapping (or, without
   * one, the event) gives theirs; absent: the install's default partner.
   */
  partner: z
    .string({ error: 'must be a partner name' })
    .trim()
    .toLowerCase()
    .regex(PARTNER_NAME, 'must be a partner name (a–z, digits and -, as the partners file names it)')
    .optional(),
  /** The profile its customers onboard with; absent: ONBOARDING_PROFILE (or the built-in one). */
  profile: z.string().trim().min(1, 'must be a profile file path').optional(),
  trigger: triggerSchema.default({ all: [] }),
  /** Which events ask for a lifecycle action (suspend, resume, offboard) of a customer already onboarded. */
  actions: sourceActionsSchema.optional(),
  /** Absent: each event's own fields are the customer's (our field names), judged strictly. */
  mapping: mappingSchema.optional(),
  /** The kind's own settings (authentication, API, write-back), checked by the kind. */
  settings: z.unknown().optional(),
});
export type SourceFile = z.infer<typeof sourceFileSchema>;

/** A source ready to use: its file checked, its kind's settings parsed. */
export interface SourceConfig extends Omit<SourceFile, 'settings'> {
  name: string;
  file: string;
  settings: unknown;
}

/** A source file that cannot be used; the message names the file, the field and the reason. */
export class SourceFileError extends Error {
  constructor(
    readonly file: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`source file ${file}: ${field}: ${reason}`);
    this.name = 'SourceFileError';
  }
}

function firstProblem(error: z.ZodError, prefix: PropertyKey[] = []): { field: string; reason: string } {
  const issue = error.issues[0];
  if (!issue) return { field: '(file)', reason: 'is not a valid source file' };
  if (issue.code === 'unrecognized_keys')
    return {
      field: fieldPath([...prefix, ...issue.path, issue.keys[0] ?? '']),
      reason: 'is not a source setting (misspelt?)',
    };
  return { field: fieldPath([...prefix, ...issue.path]), reason: issue.message };
}

/** Checks one source file's content; `file` is for messages. */
export function parseSourceFile(name: string, json: unknown, file: string): SourceConfig {
  if (!SOURCE_NAME.test(name))
    throw new SourceFileError(file, '(file name)', 'must be <name>.json with a name of a–z, digits and - (≤ 63)');
  const parsed = sourceFileSchema.safeParse(json);
  if (!parsed.success) {
    const { field, reason } = firstProblem(parsed.error);
    throw new SourceFileError(file, field, reason);
  }
  const kind = SOURCE_KINDS[parsed.data.kind];
  const settings = kind.settingsSchema.safeParse(parsed.data.settings ?? {});
  if (!settings.success) {
    const { field, reason } = firstProblem(settings.error, ['settings']);
    throw new SourceFileError(file, field, reason);
  }
  return { ...parsed.data, name, file, settings: settings.data };
}

/**
 * The partners a source file names (its `partner`, a constant `mapping.partner`) must be served by
 * the install: checked at start against the partners' names, like any other field of the file.
 */
export function checkSourcePartners(config: SourceConfig, partnerNames: readonly string[]): void {
  const constant = config.mapping?.partner;
  const named: [string, unknown][] = [
    ['partner', config.partner],
    ['mapping.partner', typeof constant === 'object' && 'value' in constant ? constant.value : undefined],
  ];
  for (const [field, value] of named) {
    if (value === undefined) continue;
    const name = String(value).trim().toLowerCase();
    if (!partnerNames.includes(name))
      throw new SourceFileError(config.file, field, new UnknownPartnerError(String(value), partnerNames).message);
  }
}

/** Every `<name>.json` of the directory, sorted by name; any bad one stops the start (exit 2). */
export async function loadSources(dir: string | undefined): Promise<SourceConfig[]> {
  if (dir === undefined) return [];
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    throw new SourceFileError(dir, '(directory)', `cannot be read: ${(err as Error).message}`);
  }
  const files = entries.filter((f) => f.endsWith('.json')).sort();
  return Promise.all(files.map((f) => loadSourceFile(join(dir, f))));
}

/** One source file, read and checked (the `sources` command checks each on its own). */
export async function loadSourceFile(file: string): Promise<SourceConfig> {
  const read = await readJsonFile(file);
  if ('problem' in read) throw new SourceFileError(file, '(file)', read.problem);
  return parseSourceFile(basename(file, '.json'), read.json, file);
}

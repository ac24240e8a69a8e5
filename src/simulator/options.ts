import { z } from 'zod';

const regexSource = z.string().refine(
  (source) => {
    try {
      new RegExp(source);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'must be a valid regular expression source' },
);

/** One injected fault (see docs/simulator.md "Faults"). */
export const FaultSchema = z
  .object({
    kind: z.enum(['5xx', '429', 'hang', 'reset', 'commit-then-fail', 'concurrent-write']),
    /** Chance that a matching request gets the fault; default 1. */
    probability: z.number().min(0).max(1).optional(),
    /** Apply to the next N matching requests only; then the fault is used up and removed. */
    times: z.number().int().positive().optional(),
    /** HTTP methods it applies to; default all (commit-then-fail: POST, PUT, DELETE only). */
    methods: z
      .array(
        z
          .string()
          .min(1)
          .transform((m) => m.toUpperCase()),
      )
      .optional(),
    /** Regex source matched against the OAS route without the /api/2 prefix, e.g. '^/tenants$'. */
    path: regexSource.optional(),
    /** Status of a 5xx or commit-then-fail answer; default 500. */
    status: z.number().int().min(500).max(599).optional(),
    /** commit-then-fail: destroy the socket instead of answering. */
    drop: z.boolean().optional(),
    /** hang: how long the request hangs before its socket is destroyed; default 60000. */
    hangMs: z.number().int().nonnegative().optional(),
    /** 429: the `Retry-After` it carries, in seconds; null: none; default 1. */
    retryAfter: z.number().int().nonnegative().nullable().optional(),
  })
  .strict();
export type Fault = z.infer<typeof FaultSchema>;
export type FaultKind = Fault['kind'];

/** The rate limit becomes `rateLimit` `afterMs` after the schedule was set (at start, or by PUT /__sim/config). */
export const RateLimitChangeSchema = z
  .object({
    afterMs: z.number().int().nonnegative(),
    rateLimit: z.number().positive().nullable(),
  })
  .strict();
export type RateLimitChange = z.infer<typeof RateLimitChangeSchema>;

/** Bounds of the seeded world, so a mistyped option cannot exhaust memory. */
export const MAX_STORAGES = 20;
export const MAX_SEEDED_CUSTOMERS = 50_000;

/**
 * The simulator's knobs; also the body of PUT /__sim/config, where every key is optional and
 * the patch is merged into the current options. No `.default()` here: zod 4 applies defaults
 * inside optional keys, which would turn every patch into a reset.
 */
export const SimulatorOptionsPatchSchema = z
  .object({
    latencyMs: z.number().int().nonnegative(),
    jitterMs: z.number().int().nonnegative(),
    /** Requests per second over all callers together; null = unlimited. */
    rateLimit: z.number().positive().nullable(),
    /** Later values of `rateLimit`, each from its time on (a limit that drops or rises mid-run). */
    rateLimitChanges: z.array(RateLimitChangeSchema).max(100),
    /** Whether a 429 over the rate limit carries `Retry-After` (some APIs send none). */
    retryAfter: z.boolean(),
    tokenTtlSeconds: z.number().int().positive(),
    faults: z.array(FaultSchema),
    /** Check every /api/2 response body against the OAS and record violations in stats. */
    validateResponses: z.boolean(),
    /** Makes ids, secrets and generated passwords deterministic; read only at start. */
    seed: z.string().min(1).nullable(),
    /** Regular backup storages beside the disaster-recovery one, one per location; read only at start. */
    storages: z.number().int().min(1).max(MAX_STORAGES),
    /** Customers the partner already has when the simulator starts; read only at start. */
    customers: z.number().int().min(0).max(MAX_SEEDED_CUSTOMERS),
  })
  .partial()
  .strict();
export type SimulatorOptionsPatch = z.infer<typeof SimulatorOptionsPatchSchema>;

/** The full options (every key present), what GET /__sim/config answers. */
export const SimulatorOptionsSchema = SimulatorOptionsPatchSchema.required();
export type SimulatorOptions = z.infer<typeof SimulatorOptionsSchema>;

export const DEFAULT_OPTIONS: SimulatorOptions = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  rateLimit: null,
  rateLimitChanges: [],
  retryAfter: true,
  tokenTtlSeconds: 7200,
  faults: [],
  validateResponses: false,
  seed: null,
  storages: 1,
  customers: 0,
});

/** Parses a patch (throws ZodError) and merges it over `current`. */
export function mergeOptions(current: SimulatorOptions, patch: unknown): SimulatorOptions {
  const parsed = SimulatorOptionsPatchSchema.parse(patch);
  const merged: SimulatorOptions = { ...current };
  for (const [key, value] of Object.entries(parsed) as [keyof SimulatorOptions, unknown][]) {
    if (value !== undefined) (merged as Record<string, unknown>)[key] = value;
  }
  return merged;
}

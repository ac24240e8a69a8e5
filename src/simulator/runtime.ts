import { IdSource } from './ids.js';
import { DEFAULT_OPTIONS, mergeOptions, type SimulatorOptions } from './options.js';
import { performance } from 'node:perf_hooks';
import { limitAt, RateLimiter } from './rate-limiter.js';
import { StatsRecorder } from './stats.js';
import { DEFAULT_PARTNER, World, type PartnerSeed } from './world.js';

/** Everything one running simulator holds: its world, its knobs, its counters. */
export class SimulatorRuntime {
  readonly world: World;
  readonly stats = new StatsRecorder();
  readonly rateLimiter = new RateLimiter();
  /** Fault rolls and jitter draw from their own stream so they never shift the ids. */
  readonly rolls: IdSource;
  /** Sockets held by `hang` faults, destroyed on close. */
  readonly hanging = new Set<{ timer: NodeJS.Timeout; destroy: () => void }>();
  private current: SimulatorOptions;
  /** When `rateLimitChanges` were last set: their `afterMs` count from here. */
  private limitChangesSetAt = performance.now();

  constructor(initial: Partial<SimulatorOptions> = {}, partner: PartnerSeed = DEFAULT_PARTNER) {
    this.current = mergeOptions(DEFAULT_OPTIONS, initial);
    this.world = new World(
      new IdSource(this.current.seed),
      { storages: this.current.storages, customers: this.current.customers },
      partner,
    );
    this.rolls = new IdSource(this.current.seed === null ? null : `${this.current.seed}:rolls`);
  }

  get options(): SimulatorOptions {
    return this.current;
  }

  /** Validates and merges a patch (throws ZodError on a bad one). */
  configure(patch: unknown): SimulatorOptions {
    this.current = mergeOptions(this.current, patch);
    if (typeof patch === 'object' && patch !== null && 'rateLimitChanges' in patch) {
      this.limitChangesSetAt = performance.now();
    }
    return this.current;
  }

  /** The rate limit in force now: `rateLimit`, or the latest of `rateLimitChanges` that is due. */
  rateLimitNow(now: number = performance.now()): number | null {
    return limitAt(this.current.rateLimit, this.current.rateLimitChanges, now - this.limitChangesSetAt);
  }

  replaceFaults(faults: SimulatorOptions['faults']): void {
    this.current = { ...this.current, faults };
  }

  revokeTokens(): void {
    this.world.tokenGeneration++;
  }

  releaseHanging(): void {
    for (const hang of this.hanging) {
      clearTimeout(hang.timer);
      hang.destroy();
    }
    this.hanging.clear();
  }
}

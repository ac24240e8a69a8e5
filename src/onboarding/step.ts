import type { z } from 'zod';
import type { AcronisEndpoints } from '../acronis/client.js';
import type { OfferingItem } from '../acronis/offering-items.js';
import type { Logger } from '../logger.js';
import type { ChainData, ChainFacts, Intent, StepName } from './chain.js';

/**
 * What a step handler is handed. Handlers are plain functions of `(input, ctx)`: they
 * call the Acronis client and the helpers here, and never build URLs or touch Redis, so a
 * step reads top to bottom as the API sequence it performs.
 */
/** The customer fields kept sealed. */
export type SecretField = 'password' | 'registration_token';

export interface StepContext {
  acronis: AcronisEndpoints;
  /** Child logger bound to batchId, customer and step. */
  logger: Logger;
  /** A line in the job's log, shown by the queue dashboard next to the job. */
  log(line: string): Promise<void>;
  /** Seals and opens the customer's secrets, each bound to the customer and its field. */
  secrets: { seal(plain: string, field: SecretField): string; open(sealed: string, field: SecretField): string };
  /** Offering lookups shared by every customer of a batch (cached in Redis). */
  offers: {
    availableForChild(partnerTenantId: string, edition: string): Promise<OfferingItem[]>;
    enabledItemsOf(templateTenantId: string): Promise<OfferingItem[]>;
  };
  /**
   * Persists facts in the job before a side effect, so that a re-run after a crash sees
   * them (e.g. the password about to be set, or that a token was about to be created).
   */
  checkpoint(facts: Partial<ChainFacts>): Promise<void>;
  /**
   * Write-ahead intent: records in the job, before a create is sent, that the step is about to
   * make `what` (with `facts` to keep alongside, in the same write). Returns when an earlier
   * attempt recorded it — that attempt may have created it, so look it up first — or undefined
   * the first time: nothing of this chain's can exist yet, so create directly (a conflict
   * answer still leads to a look-up).
   */
  intend(what: Intent, facts?: Partial<ChainFacts>): Promise<Date | undefined>;
  /**
   * `intend` for a change that cannot be looked up afterwards, whose intent must mean "a request
   * may have left": written only once the request slot of the change `send` makes is due, right
   * before it goes out, and only while the job is still this run's (one Redis call with the lock
   * check), so a run cut off before its send leaves none (src/workers/send-intent.ts).
   */
  intendAtSend<T>(what: Intent, send: () => Promise<T>): Promise<T>;
  /**
   * Takes back the intent `intendAtSend` wrote when the request it announced was certainly not
   * carried out; only while the job's data is still what this run wrote.
   */
  withdraw(what: Intent): Promise<void>;
  /** The data-centre URL the agents register with (docs/acronis-api.md §7). */
  dataCenterUrl: string;
}

export interface StepDefinition<I extends z.ZodType<ChainData> = z.ZodType<ChainData>> {
  name: StepName;
  /** Validated when the job is enqueued and again when a worker picks it up. */
  input: I;
  /** The facts the step adds to the chain. */
  run(input: z.output<I>, ctx: StepContext): Promise<Partial<ChainFacts>>;
}

/** Typed identity helper: infers the handler's input from its schema. */
export function defineStep<I extends z.ZodType<ChainData>>(definition: StepDefinition<I>): StepDefinition<I> {
  return definition;
}

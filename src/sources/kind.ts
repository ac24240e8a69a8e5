import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import type { Logger } from '../logger.js';

/**
 * What every kind of source (generic JSON, HubSpot, ConnectWise PSA, …) gives the intake
 * (docs/sources.md). The intake owns the route, the size bound, the refusal counting, the
 * durable record of each event and the BullMQ jobs; a kind only knows its vendor: how a request
 * is authenticated, how its body reads, how to read a record back and write a result back.
 */

/** A request as it arrived, before anything else is done with it. */
export interface Delivery {
  method: string;
  /**
   * The URL the sender signed: the source's configured public URL (a proxy in front changes what
   * the server sees) followed by the path's query string as received.
   */
  signedUrl: string;
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** When it arrived (ms since the epoch); replay windows are measured from it. */
  receivedAt: number;
}

/**
 * 401: not authenticated (forged, unsigned, stale); the reason is for our log, never the answer.
 * `unavailable`: the kind could not decide because something it needs answered "try later" (the
 * ConnectWise signing key's host timed out or answered 5xx/429): 503 with Retry-After, so the
 * vendor sends it again instead of the event being refused for good.
 */
export type Verdict = { ok: true } | { ok: false; reason: string; unavailable?: boolean };

/** One thing the sender says happened, as the kind reads it from the body. */
export interface SourceEvent {
  /**
   * Stable across the vendor's retries of the same event (the vendor's event id, or a hash of the
   * event's own bytes when the vendor gives none): the intake records each id once.
   */
  eventId: string;
  /** The vendor's name for it, e.g. `deal.propertyChange`, `agreement/added`. */
  type: string;
  /** What the event is about in the source, e.g. `deal` and its id `9876`. */
  objectType: string;
  objectId: string;
  /** What the event itself carries: everything for a generic sender, a few fields for thin vendors. */
  payload: Record<string, unknown>;
}

export type ParsedBody = { ok: true; events: SourceEvent[] } | { ok: false; reason: string };

/**
 * Everything the trigger and the mapping may read about one event, flattened into dotted paths
 * (`deal.dealstage`, `company.name`, `contact.email`, `line_items[].quantity` as an array):
 * the source file's mapping names these paths.
 */
export interface SourceRecord {
  fields: Record<string, unknown>;
  /** The record a result is written back to (a HubSpot company, a ConnectWise company). */
  writeBackTarget?: { objectType: string; objectId: string };
}

/** What the write-back tells the source about its customer. */
export interface WriteBack {
  state: 'done' | 'failed';
  tenantId?: string;
  adminLogin?: string;
  /** A person's reason when failed. */
  reason?: string;
  /** The customer key, for notes. */
  customer: string;
}

/** A refused or failed call to a source's API, decided once, here (as src/acronis/errors.ts does for Acronis). */
export class SourceApiError extends Error {
  constructor(
    readonly source: string,
    /** e.g. `GET /crm/v3/objects/deals/{id}`: no ids, no query, never a credential. */
    readonly endpoint: string,
    readonly status: number | undefined,
    /** 429, 5xx, timeouts and resets: worth another try. */
    readonly retryable: boolean,
    /** What a person can do about it. */
    reason: string,
    /** Seconds the source asked us to wait (Retry-After), when it said. */
    readonly retryAfterSec?: number,
  ) {
    super(`${source}: ${endpoint}: ${reason}`);
    this.name = 'SourceApiError';
  }
}

/** What a kind's calls get: the source's resolved secrets and its API access, nothing else. */
export interface KindContext<Settings> {
  /** The source's name (its route is `/webhooks/sources/<name>`). */
  source: string;
  settings: Settings;
  /** The secrets the source file names by environment variable, resolved; never logged. */
  secrets: Readonly<Record<string, string>>;
  /**
   * Waits for a slot in this source's own rate limit (shared by every process through Redis)
   * before each call to the source's API.
   */
  acquire(): Promise<void>;
  logger: Logger;
  signal?: AbortSignal;
}

/** The HTTP answer for each outcome, chosen from the vendor's retry policy (the table in docs/sources.md). */
export interface AnswerTable {
  /** Recorded: the work goes on in jobs. */
  accepted: number;
  /** Authentication failed. */
  unauthenticated: number;
  /** Authenticated, but the body is not something we can read: the vendor must not retry it for days. */
  unreadable: number;
}

/** Which answer the intake is giving, for a kind that shapes its body (`SourceKind.answerBody`). */
export type AnswerOutcome = 'accepted' | 'unauthenticated' | 'unreadable' | 'unavailable';

export interface SourceKind<Settings> {
  kind: string;
  /** The kind's part of a source file (authentication, API, write-back fields), strict. */
  settingsSchema: z.ZodType<Settings>;
  /** The environment variables the settings name, e.g. the HubSpot app secret's. */
  secretNames(settings: Settings): string[];
  /**
   * Optional (added after the first version): a problem with the secrets' values that stops the
   * start, naming the variable (e.g. "SHOP_SECRET must be whsec_<base64>"); undefined when usable.
   */
  checkSecrets?(settings: Settings, secrets: Readonly<Record<string, string>>): string | undefined;
  answers: AnswerTable;
  /**
   * Optional (added for Salesforce): the answer's body and content type for each outcome, for a
   * vendor that reads the body (Salesforce resends until it gets its SOAP acknowledgement); without
   * it the answer is the intake's JSON. `reason` is what that JSON would say (its `reason`, else
   * its `error`), never a secret.
   */
  answerBody?(outcome: AnswerOutcome, reason: string): { contentType: string; body: string };
  /**
   * From the headers alone, before the body is read: a missing or out-of-window signature header
   * is refused without reading an unbounded body.
   */
  checkHeaders(headers: IncomingHttpHeaders, ctx: KindContext<Settings>, now: number): Verdict;
  /** Over the raw bytes, constant-time (may fetch a signing key, as ConnectWise requires). */
  verify(delivery: Delivery, ctx: KindContext<Settings>): Promise<Verdict>;
  /**
   * A body that authenticated, parsed (JSON already, or not when `rawBody` is not JSON: the kind
   * decides). `ctx` came later (the generic kind reads where the object id is from its settings):
   * a kind that needs nothing of it may leave it out.
   */
  parse(delivery: Delivery, ctx: KindContext<Settings>): ParsedBody;
  /** Reads what the event lacks from the source's API; throws SourceApiError. */
  readBack(event: SourceEvent, ctx: KindContext<Settings>): Promise<SourceRecord>;
  /** Writes the customer's result to the source record; idempotent; throws SourceApiError. */
  writeBack(
    target: NonNullable<SourceRecord['writeBackTarget']>,
    result: WriteBack,
    ctx: KindContext<Settings>,
  ): Promise<void>;
  /** For `acronis-onboard sources`: one authenticated read that proves the API and credentials work. */
  checkApi(ctx: KindContext<Settings>): Promise<void>;
}

/**
 * What each of the demo's simulated sales/PSA systems gives demo-sources.ts (one module per kind:
 * demo-pipedrive.ts, demo-salesforce.ts, demo-autotask.ts): its source file for the SOURCES_DIR,
 * the secrets that file names by variable, and the one event it sends once the server listens.
 */

/** One customer a system sent, and how to tell its result reached that system. */
export interface DemoSourceCustomer {
  /** `Pipedrive: deal 12 won` */
  what: string;
  customerKey: string;
  companyId: string;
  /** The simulator holds a write of our result to the company. */
  writtenInSystem: () => boolean;
}

export interface DemoSystem {
  fileName: string;
  file: Record<string, unknown>;
  /** The made-up credentials, by the variable names the file gives (for the server's `secretEnv`). */
  secretEnv: Record<string, string>;
  /** Points the system at the server and makes the event happen in it. */
  feed(serverUrl: string): DemoSourceCustomer;
  close(): Promise<void>;
}

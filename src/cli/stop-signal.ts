/**
 * How a long-running command stops (docs/resilience.md "Stopping"). The first SIGTERM (a
 * container stop) or SIGINT (Ctrl-C) aborts `stopSignal()`: the command shuts down in its own
 * order, and a hard deadline, SHUTDOWN_TIMEOUT_MS plus a few seconds, exits anyway should that
 * path hang (a Redis that is away, an API call that never answers). A second signal exits at
 * once. Exit codes: what the command returns after a graceful stop; 1 when the deadline cut it
 * short; 128 + the signal's number (130 SIGINT, 143 SIGTERM) on a second signal, or on a stop
 * before the command had started.
 */
const SIGNAL_EXIT: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };
/** Beyond SHUTDOWN_TIMEOUT_MS: forcing the steps still running, closing connections, the exit itself. */
export const SHUTDOWN_MARGIN_MS = 4000;

export function exitCodeForSignal(signal: NodeJS.Signals): number {
  return SIGNAL_EXIT[signal] ?? 1;
}

export class StoppedError extends Error {
  constructor(readonly signal: NodeJS.Signals) {
    super(`stopped by ${signal}`);
    this.name = 'StoppedError';
  }
}

interface StopHandling {
  controller: AbortController;
  signal?: NodeJS.Signals;
}

let handling: StopHandling | undefined;

/**
 * Installs the handlers for `command` (once per process); `graceMs` is the command's own
 * drain time (SHUTDOWN_TIMEOUT_MS), the deadline adds SHUTDOWN_MARGIN_MS to it.
 */
export function handleStopSignals(command: string, graceMs: number): AbortSignal {
  if (handling) return handling.controller.signal;
  const state: StopHandling = { controller: new AbortController() };
  handling = state;
  const onSignal = (signal: NodeJS.Signals) => {
    if (state.signal) {
      console.error(`acronis-onboard ${command}: ${signal} again; exiting now`);
      process.exit(exitCodeForSignal(signal));
    }
    state.signal = signal;
    const deadlineMs = graceMs + SHUTDOWN_MARGIN_MS;
    // unref'd: a shutdown that ends on time exits as usual, this only cuts one that does not.
    setTimeout(() => {
      console.error(`acronis-onboard ${command}: did not stop within ${deadlineMs} ms of ${signal}; exiting now`);
      process.exit(1);
    }, deadlineMs).unref();
    state.controller.abort(new StoppedError(signal));
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return state.controller.signal;
}

/** Resolves with the first stop signal; handleStopSignals must have been called. */
export function untilStopSignal(stop: AbortSignal): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const done = () => resolve((stop.reason as StoppedError).signal);
    if (stop.aborted) done();
    else stop.addEventListener('abort', done, { once: true });
  });
}

/** After a stop signal, once the command has returned: exits with its code, now. */
export function exitIfStopped(): void {
  if (handling?.signal) process.exit(process.exitCode ?? 0);
}

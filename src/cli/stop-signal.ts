/**
 * Resolves on the first SIGTERM or SIGINT, so a long-running command can then shut down in
 * its own order (a container stop sends SIGTERM, a terminal Ctrl-C sends SIGINT).
 */
export function untilStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(signal);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

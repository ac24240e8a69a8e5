import { App, type AppRole } from '../app/app.js';
import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { loggerReport, RedisAvailability, type AvailabilityReport } from '../redis/availability.js';
import { redisLostOr } from './redis-lost.js';
import { handleStopSignals } from './stop-signal.js';

export interface WithAppOptions {
  role?: AppRole;
  /** The command's logger; by default warnings and worse, on stdout. */
  logger?: (config: Config) => Logger;
  /**
   * A long-running command's name: it waits for Redis at start instead of failing, and stops
   * on SIGTERM/SIGINT within SHUTDOWN_TIMEOUT_MS and a margin (src/cli/stop-signal.ts).
   */
  untilStopped?: string;
  /**
   * Where an outage is told. By default a long-running command logs a warning and an info
   * line; a short one says nothing until it ends, with the one line of RedisLostError.
   */
  report?: AvailabilityReport;
}

/** A short command does not wait for Redis: "waiting for it" would not be true. */
const shortCommandReport = (logger: Logger): AvailabilityReport => ({
  ...loggerReport(logger),
  down: () => undefined,
  up: () => undefined,
});

const NEVER = new AbortController().signal;

/**
 * Runs a command with the app built from the environment, and closes it however the command
 * ends. `stop` aborts on the first stop signal (never, for a short command).
 */
export async function withApp<T>(opts: WithAppOptions, run: (app: App, stop: AbortSignal) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger =
    opts.logger?.(config) ?? createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL });
  const stop = opts.untilStopped ? handleStopSignals(opts.untilStopped, config.SHUTDOWN_TIMEOUT_MS) : undefined;
  const report = opts.report ?? (stop ? loggerReport(logger) : shortCommandReport(logger));
  const app = await App.open(config, {
    logger,
    availability: new RedisAvailability(config.REDIS_URL, report),
    ...(opts.role ? { role: opts.role } : {}),
    ...(stop ? { waitForRedis: stop } : {}),
  });
  try {
    return await run(app, stop ?? NEVER);
  } catch (err) {
    throw redisLostOr(err, config.REDIS_URL);
  } finally {
    await app.close();
  }
}

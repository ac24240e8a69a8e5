import { App, type AppRole } from '../app/app.js';
import { loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';

export interface WithAppOptions {
  role?: AppRole;
  /** The command's logger; by default warnings and worse, on stdout. */
  logger?: (config: Config) => Logger;
}

/** Runs a command with the app built from the environment, and closes it however the command ends. */
export async function withApp<T>(opts: WithAppOptions, run: (app: App) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const logger =
    opts.logger?.(config) ?? createLogger({ level: config.LOG_LEVEL === 'info' ? 'warn' : config.LOG_LEVEL });
  const app = await App.open(config, { logger, ...(opts.role ? { role: opts.role } : {}) });
  try {
    return await run(app);
  } finally {
    await app.close();
  }
}

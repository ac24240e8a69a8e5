import { AcronisApiError, connectionNeverMade } from '../acronis/errors.js';
import { RedisUnavailableError } from '../redis/connection.js';
import { ListenError, listenSettings } from './listen-settings.js';
import { BatchGoneError } from './batch-progress.js';
import { RedisLostError } from './redis-lost.js';
import { SweepRunningError } from '../workers/exclusive-sweep.js';
import { exitCodeForSignal, StoppedError } from './stop-signal.js';
import { PartnersFileError } from '../partners/partners-file.js';
import { UnknownPartnerError } from '../partners/partner-set.js';
import { PartnerRefusedError } from '../partners/partner-refusal.js';

/**
 * Failures a newcomer meets that are not bugs: each becomes one line saying what to change, never
 * a stack trace. Returns undefined for anything else.
 */
export interface Explained {
  /** One line for the terminal; empty when there is nothing to say (a stop the person asked for). */
  message: string;
  /** 2: the configuration or the input is unusable; 130/143: stopped by SIGINT/SIGTERM. */
  code: number;
}

export function explainExpected(
  err: unknown,
  env: { PORT?: number; HOST?: string; ACRONIS_BASE_URL?: string; PARTNERS_FILE?: string } = {},
): Explained | undefined {
  // Nothing to say: the person stopped it (Ctrl-C while a command waited for Redis or the API).
  if (err instanceof StoppedError) return { code: exitCodeForSignal(err.signal), message: '' };
  // REDIS_URL names a Redis that does not answer: the configuration, not the work, is at fault.
  if (err instanceof RedisUnavailableError) return { code: 2, message: err.message };
  if (err instanceof ListenError) return { code: 2, message: err.message };
  // PARTNERS_FILE names the field (or both twins); `--partner` names one the install does not serve.
  if (err instanceof PartnersFileError || err instanceof UnknownPartnerError || err instanceof PartnerRefusedError)
    return { code: 2, message: err.message };
  // Redis went under a command that does not wait for it, or came back without the batch followed.
  if (err instanceof RedisLostError || err instanceof BatchGoneError) return { code: 1, message: err.message };
  // Another sweep holds the lease: nothing was read; the same command works once it has ended.
  if (err instanceof SweepRunningError) return { code: 1, message: err.message };
  // A listen outside `listening()`: the address came from the environment.
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE' || code === 'EADDRNOTAVAIL') {
    const settings = listenSettings({}, { PORT: env.PORT ?? 3000, HOST: env.HOST ?? '127.0.0.1' });
    return { code: 2, message: new ListenError(code, settings).message };
  }
  const unreachable = connectionNeverMade(err);
  if (unreachable && env.PARTNERS_FILE)
    return {
      code: 2,
      message: `a partner's data centre does not answer (${unreachable}): acronis-onboard check names the partner and its base_url`,
    };
  if (unreachable) {
    const where = env.ACRONIS_BASE_URL ? `ACRONIS_BASE_URL ${env.ACRONIS_BASE_URL}` : 'ACRONIS_BASE_URL';
    return {
      code: 2,
      message: `${where} does not answer (${unreachable}): check ACRONIS_BASE_URL, and that the data centre (or the simulator) is up and reachable from here`,
    };
  }
  if (err instanceof AcronisApiError && err.path === '/idp/token' && (err.status === 400 || err.status === 401)) {
    // With a partners file the ACRONIS_* variables are not the ones used: check says which partner.
    if (env.PARTNERS_FILE)
      return {
        code: 2,
        message: `a data centre refused a partner's API client (${err.status}${err.code !== undefined ? ` ${err.code}` : ''}): acronis-onboard check names the partner and the variables to check`,
      };
    const where = env.ACRONIS_BASE_URL ?? 'the data centre';
    return {
      code: 2,
      message:
        `${where} refused the API client (${err.status}${err.code !== undefined ? ` ${err.code}` : ''}): check ACRONIS_CLIENT_ID and ` +
        'ACRONIS_CLIENT_SECRET, and that ACRONIS_BASE_URL is the data centre the client was created in',
    };
  }
  return undefined;
}

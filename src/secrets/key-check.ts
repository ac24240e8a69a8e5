import type { RedisConnection } from '../redis/connection.js';
import { ConfigError } from '../config.js';
import { keyIdOf, SecretBoxError, type SecretBox } from './secret-box.js';

/**
 * The install's key check: a value sealed with SECRETS_KEY, kept in Redis beside the data it
 * guards. Every command opens it before doing anything, so a process with another key stops
 * at once (exit 2, naming SECRETS_KEY) instead of sealing values its peers cannot open.
 */
const CANARY_PLACE = 'secrets-key-check';
const CANARY_TEXT = 'acronis-onboard';

export async function checkSecretsKey(redis: RedisConnection, key: string, box: SecretBox): Promise<void> {
  let stored = await redis.get(key);
  if (stored === null) {
    // The first process with a key: its key becomes the install's (NX: one wins a race).
    await redis.set(key, box.seal(CANARY_TEXT, CANARY_PLACE), 'NX');
    stored = (await redis.get(key)) ?? '';
  }
  try {
    box.open(stored, CANARY_PLACE);
  } catch (err) {
    if (!(err instanceof SecretBoxError)) throw err;
    throw new ConfigError([{ variable: 'SECRETS_KEY', reason: mismatch(err, stored, box, key) }]);
  }
}

/** After a rotation has resealed everything: the check names the new key only. */
export async function renewKeyCheck(redis: RedisConnection, key: string, box: SecretBox): Promise<void> {
  await redis.set(key, box.seal(CANARY_TEXT, CANARY_PLACE));
}

function mismatch(err: SecretBoxError, stored: string, box: SecretBox, key: string): string {
  if (err.problem !== 'unknown-key') return `the key check in Redis (${key}) does not open: ${err.message}`;
  return (
    `is not the key this install's data in Redis is sealed with (key id ${keyIdOf(stored) ?? '?'}; ` +
    `this process has ${box.keyIds.join(' and ')}). Every process of one install (the same REDIS_URL and ` +
    `QUEUE_PREFIX) needs the same SECRETS_KEY; to change it, see docs/security.md "Rotating SECRETS_KEY". Nothing was done`
  );
}

import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for the secrets we must keep in Redis (access tokens, passwords, registration
 * tokens, callback URLs). Sealed form: `v2.<key id>.<iv>.<tag>.<ciphertext>`, all base64url, so
 * a key scan of Redis never shows a secret in clear, tampering fails authentication, and a
 * value says which key sealed it. Every value is bound to its place (associated data: e.g. the
 * customer and the field), so a sealed value copied into another record does not open there.
 *
 * Two keys during a rotation (SECRETS_KEY_PREVIOUS): values open with either, and are always
 * sealed with the current one. `v1` values (no key id, no place) came before any install kept
 * data and are not read.
 */
export interface SecretBox {
  /** The current key's id, as it appears in what it seals. */
  readonly keyId: string;
  /** The ids of every key this box opens with, the current one first. */
  readonly keyIds: readonly string[];
  seal(plain: string, place: string): string;
  open(sealed: string, place: string): string;
  /** Sealed with a key other than the current one (the previous): `reseal` it. */
  needsReseal(sealed: string): boolean;
  /** Opened and sealed again with the current key. */
  reseal(sealed: string, place: string): string;
}

export type SecretBoxProblem = 'format' | 'unknown-key' | 'altered';

export class SecretBoxError extends Error {
  constructor(
    message: string,
    readonly problem: SecretBoxProblem = 'format',
  ) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/** The place of a customer's secret: its key and the field, so it opens only there. */
export function customerField(customerKey: string, field: string): string {
  return JSON.stringify(['customer', customerKey, field]);
}

/** The id of the key that sealed a value; undefined when it is not a (v2) sealed value. */
export function keyIdOf(sealed: string): string | undefined {
  const [version, keyId] = sealed.split('.');
  return version === 'v2' ? keyId : undefined;
}

export function createSecretBox(keyBase64: string, previousBase64?: string): SecretBox {
  const current = decodeKey(keyBase64, 'SECRETS_KEY');
  const keys = new Map([[idOf(current), current]]);
  if (previousBase64) {
    const previous = decodeKey(previousBase64, 'SECRETS_KEY_PREVIOUS');
    keys.set(idOf(previous), previous);
  }
  const keyId = idOf(current);
  const box: SecretBox = {
    keyId,
    keyIds: [...keys.keys()],
    seal(plain, place) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv).setAAD(Buffer.from(place));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return ['v2', keyId, iv, cipher.getAuthTag(), body]
        .map((part) => (typeof part === 'string' ? part : part.toString('base64url')))
        .join('.');
    },
    open(sealed, place) {
      const [version, id, iv, tag, body, extra] = sealed.split('.');
      if (version !== 'v2' || id === undefined || iv === undefined || tag === undefined || body === undefined || extra)
        throw new SecretBoxError('not a sealed secret (expected v2.<key id>.<iv>.<tag>.<data>)');
      const key = keys.get(id);
      if (!key) {
        const known = [...keys.keys()].join(', ');
        throw new SecretBoxError(
          `sealed with another SECRETS_KEY (key id ${id}; this process has ${known})`,
          'unknown-key',
        );
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAAD(Buffer.from(place)).setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretBoxError('altered, or copied from another record or field (it does not open here)', 'altered');
      }
    },
    needsReseal: (sealed) => keyIdOf(sealed) !== keyId,
    reseal: (sealed, place) => (keyIdOf(sealed) === keyId ? sealed : box.seal(box.open(sealed, place), place)),
  };
  return box;
}

/** A fresh random key, for the demo and tests (never for an install that keeps data). */
export function generateSecretsKey(): string {
  return randomBytes(32).toString('base64');
}

function decodeKey(keyBase64: string, variable: string): Buffer {
  const key = Buffer.from(keyBase64, 'base64');
  if (key.length !== 32) throw new SecretBoxError(`${variable} must decode to exactly 32 bytes`);
  return key;
}

/** Names a key without revealing anything of it: 8 bytes of an HMAC under the key itself. */
function idOf(key: Buffer): string {
  return createHmac('sha256', key).update('acronis-onboard key id').digest().subarray(0, 8).toString('base64url');
}

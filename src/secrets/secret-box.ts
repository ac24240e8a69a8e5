import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * AES-256-GCM for the secrets we must keep in Redis (access tokens, generated passwords,
 * registration tokens). Sealed form: `v1.<iv>.<tag>.<ciphertext>`, all base64url, so a
 * key scan of Redis never shows a secret in clear and tampering fails authentication.
 */
export interface SecretBox {
  seal(plain: string, associatedData?: string): string;
  open(sealed: string, associatedData?: string): string;
}

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

export function createSecretBox(keyBase64: string): SecretBox {
  const key = Buffer.from(keyBase64, 'base64');
  if (key.length !== 32) throw new SecretBoxError('SECRETS_KEY must decode to exactly 32 bytes');
  return {
    seal(plain, associatedData) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      if (associatedData) cipher.setAAD(Buffer.from(associatedData));
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
      return [
        'v1',
        iv.toString('base64url'),
        cipher.getAuthTag().toString('base64url'),
        body.toString('base64url'),
      ].join('.');
    },
    open(sealed, associatedData) {
      const [version, iv, tag, body] = sealed.split('.');
      if (version !== 'v1' || iv === undefined || tag === undefined || body === undefined) {
        throw new SecretBoxError('not a sealed secret (expected v1.<iv>.<tag>.<data>)');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        if (associatedData) decipher.setAAD(Buffer.from(associatedData));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
      } catch {
        throw new SecretBoxError(
          'a sealed secret could not be opened: SECRETS_KEY differs from the one that sealed it, or the value was altered',
        );
      }
    },
  };
}

/** A fresh random key, for the demo and tests (never for an install that keeps data). */
export function generateSecretsKey(): string {
  return randomBytes(32).toString('base64');
}

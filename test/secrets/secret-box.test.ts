import { describe, expect, it } from 'vitest';
import { createSecretBox, generateSecretsKey, SecretBoxError } from '../../src/secrets/secret-box.js';

const box = createSecretBox(generateSecretsKey());

describe('SecretBox', () => {
  it('opens what it sealed, and the sealed form shows nothing of the secret', () => {
    const secret = 'p@ssw0rd-é-🔑';
    const sealed = box.seal(secret, 'onboard:acronis:token:abc');

    expect(sealed).toMatch(/^v1\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(sealed).not.toContain('p@ss');
    expect(box.open(sealed, 'onboard:acronis:token:abc')).toBe(secret);
    expect(box.seal(secret)).not.toBe(box.seal(secret)); // fresh IV every time
  });

  it('refuses to open with a different key', () => {
    const sealed = box.seal('secret');
    expect(() => createSecretBox(generateSecretsKey()).open(sealed)).toThrow(SecretBoxError);
  });

  it('refuses tampered ciphertext, tag or IV', () => {
    const sealed = box.seal('a secret long enough to flip a byte in');
    const parts = sealed.split('.');
    for (const index of [1, 2, 3]) {
      const tampered = [...parts];
      const bytes = Buffer.from(tampered[index]!, 'base64url');
      bytes[0] = bytes[0]! ^ 0x01;
      tampered[index] = bytes.toString('base64url');
      expect(() => box.open(tampered.join('.'))).toThrow(SecretBoxError);
    }
    expect(() => box.open('not-sealed')).toThrow(SecretBoxError);
    expect(() => box.open(`v2.${parts.slice(1).join('.')}`)).toThrow(SecretBoxError);
  });

  it('opens only with the same associated data', () => {
    const sealed = box.seal('secret', 'customer-1');
    expect(() => box.open(sealed, 'customer-2')).toThrow(SecretBoxError);
    expect(() => box.open(sealed)).toThrow(SecretBoxError);
    expect(() => box.open(box.seal('secret'), 'customer-1')).toThrow(SecretBoxError);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => createSecretBox(Buffer.alloc(16).toString('base64'))).toThrow(SecretBoxError);
    expect(() => createSecretBox(Buffer.alloc(33).toString('base64'))).toThrow(SecretBoxError);
    expect(() => createSecretBox('')).toThrow(/32 bytes/);
  });
});

import { describe, expect, it } from 'vitest';
import {
  createSecretBox,
  customerField,
  generateSecretsKey,
  keyIdOf,
  SecretBoxError,
} from '../../src/secrets/secret-box.js';

const key = generateSecretsKey();
const box = createSecretBox(key);
const place = customerField('crm-1', 'password');

describe('SecretBox', () => {
  it('opens what it sealed, and the sealed form shows nothing of the secret but the key id', () => {
    const secret = 'p@ssw0rd-é-🔑';
    const sealed = box.seal(secret, 'onboard:acronis:token:abc');

    expect(sealed).toMatch(/^v2\.[\w-]{11}\.[\w-]+\.[\w-]+\.[\w-]+$/);
    expect(keyIdOf(sealed)).toBe(box.keyId);
    expect(sealed).not.toContain('p@ss');
    expect(box.open(sealed, 'onboard:acronis:token:abc')).toBe(secret);
    expect(box.seal(secret, place)).not.toBe(box.seal(secret, place)); // fresh IV every time
    expect(createSecretBox(key).keyId).toBe(box.keyId); // the id is the key's, not the process's
  });

  it('refuses to open with a different key, saying so with both key ids', () => {
    const sealed = box.seal('secret', place);
    const other = createSecretBox(generateSecretsKey());
    expect(() => other.open(sealed, place)).toThrow(SecretBoxError);
    expect(() => other.open(sealed, place)).toThrow(new RegExp(`key id ${box.keyId}.*${other.keyId}`));
  });

  it('refuses tampered ciphertext, tag or IV, and values of another format (v1 included)', () => {
    const sealed = box.seal('a secret long enough to flip a byte in', place);
    const parts = sealed.split('.');
    for (const index of [2, 3, 4]) {
      const tampered = [...parts];
      const bytes = Buffer.from(tampered[index]!, 'base64url');
      bytes[0] = bytes[0]! ^ 0x01;
      tampered[index] = bytes.toString('base64url');
      expect(() => box.open(tampered.join('.'), place)).toThrow(SecretBoxError);
    }
    expect(() => box.open('not-sealed', place)).toThrow(SecretBoxError);
    expect(() => box.open(`v1.${parts.slice(2).join('.')}`, place)).toThrow(SecretBoxError);
  });

  it('opens only in its place: another customer or another field does not open it', () => {
    const sealed = box.seal('secret', customerField('crm-1', 'registration_token'));
    expect(() => box.open(sealed, customerField('crm-2', 'registration_token'))).toThrow(/copied from another/);
    expect(() => box.open(sealed, customerField('crm-1', 'password'))).toThrow(SecretBoxError);
    expect(box.open(sealed, customerField('crm-1', 'registration_token'))).toBe('secret');
  });

  it('during a rotation opens what either key sealed, seals with the new one, and reseals the old', () => {
    const previous = generateSecretsKey();
    const old = createSecretBox(previous).seal('kept', place);
    const rotating = createSecretBox(generateSecretsKey(), previous);
    expect(rotating.open(old, place)).toBe('kept');
    expect(rotating.needsReseal(old)).toBe(true);
    const resealed = rotating.reseal(old, place);
    expect(keyIdOf(resealed)).toBe(rotating.keyId);
    expect(rotating.needsReseal(resealed)).toBe(false);
    expect(keyIdOf(rotating.seal('new', place))).toBe(rotating.keyId);
    expect(rotating.keyIds).toHaveLength(2);
  });

  it('refuses a key that is not 32 bytes', () => {
    expect(() => createSecretBox(Buffer.alloc(16).toString('base64'))).toThrow(SecretBoxError);
    expect(() => createSecretBox(Buffer.alloc(33).toString('base64'))).toThrow(SecretBoxError);
    expect(() => createSecretBox('')).toThrow(/32 bytes/);
  });
});

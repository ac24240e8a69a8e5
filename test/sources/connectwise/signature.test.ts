import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { connectwiseSignature, signatureMatches } from '../../../src/sources/connectwise/signature.js';
import { signCallback } from '../../../src/simulator/connectwise/signing.js';

const fixture = readFileSync(
  new URL('../../fixtures/sources/connectwise/callback-contact-updated.json', import.meta.url),
);

describe('ConnectWise x-content-signature', () => {
  it('matches a known answer: base64 HMAC-SHA256 keyed with SHA-256 of the signing key', () => {
    // Computed once with Node crypto and written down: a change to the scheme fails here.
    expect(connectwiseSignature('test-signing-key', fixture)).toBe('N2rfTC6bE723vlHgmjvZa35vDoGJ/nv1YlVtrHjx8WQ=');
    expect(signCallback('test-signing-key', fixture.toString('utf8'))).toBe(
      'N2rfTC6bE723vlHgmjvZa35vDoGJ/nv1YlVtrHjx8WQ=',
    );
  });

  it('is not the HMAC keyed with the signing key as given (the other reading)', () => {
    const raw = createHmac('sha256', 'test-signing-key').update(fixture).digest('base64');
    expect(signatureMatches('test-signing-key', fixture, raw)).toBe(false);
    const hashed = createHmac('sha256', createHash('sha256').update('test-signing-key').digest())
      .update(fixture)
      .digest('base64');
    expect(signatureMatches('test-signing-key', fixture, hashed)).toBe(true);
  });

  it('refuses a forged signature, a tampered body and a different key', () => {
    const good = connectwiseSignature('test-signing-key', fixture);
    expect(signatureMatches('test-signing-key', fixture, 'A'.repeat(43) + '=')).toBe(false);
    const tampered = Buffer.from(fixture.toString('utf8').replace('"ID": 57961', '"ID": 57962'));
    expect(tampered.equals(fixture)).toBe(false);
    expect(signatureMatches('test-signing-key', tampered, good)).toBe(false);
    expect(signatureMatches('another-key', fixture, good)).toBe(false);
    expect(signatureMatches('test-signing-key', fixture, good.slice(0, 20))).toBe(false);
  });
});

import { createHash, randomBytes } from 'node:crypto';

/**
 * Where the simulator's ids and secrets come from. With a seed every byte is derived from
 * SHA-256(seed:counter), so the same sequence of calls yields the same ids; without one it
 * is crypto randomness.
 */
export class IdSource {
  private counter = 0;

  constructor(private readonly seed: string | null) {}

  bytes(length: number): Buffer {
    if (this.seed === null) return randomBytes(length);
    const chunks: Buffer[] = [];
    let have = 0;
    while (have < length) {
      const chunk = createHash('sha256').update(`${this.seed}:${this.counter++}`).digest();
      chunks.push(chunk);
      have += chunk.length;
    }
    return Buffer.concat(chunks).subarray(0, length);
  }

  /** A random (version 4) UUID: the API's ids are v4 except the documented integer ones. */
  uuid(): string {
    const b = this.bytes(16);
    b[6] = ((b[6] as number) & 0x0f) | 0x40;
    b[8] = ((b[8] as number) & 0x3f) | 0x80;
    const hex = b.toString('hex');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  hex(byteLength: number): string {
    return this.bytes(byteLength).toString('hex');
  }

  base64url(byteLength: number): string {
    return this.bytes(byteLength).toString('base64url');
  }

  /** `XXXX-XXXX-XXXX` of [A-Z0-9], the registration token format (docs/acronis-api.md §7). */
  registrationToken(): string {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
    const chars = [...this.bytes(12)].map((byte) => alphabet[byte % alphabet.length] as string);
    return `${chars.slice(0, 4).join('')}-${chars.slice(4, 8).join('')}-${chars.slice(8).join('')}`;
  }

  /** A number in [0, 1), for fault probabilities and jitter. */
  fraction(): number {
    return this.bytes(4).readUInt32BE(0) / 0x1_0000_0000;
  }
}

import { open } from 'node:fs/promises';

/**
 * Writes a file only its owner may read: created 0600, and narrowed to 0600 before a byte is
 * written when it existed already. For what holds secrets (`.env`, results with passwords).
 */
export async function writeOwnerOnly(path: string, text: string): Promise<void> {
  const file = await open(path, 'w', 0o600);
  try {
    await file.chmod(0o600);
    await file.writeFile(text);
  } finally {
    await file.close();
  }
}

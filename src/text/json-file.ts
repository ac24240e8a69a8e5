import { readFile } from 'node:fs/promises';

/**
 * A JSON file an operator wrote (a profile, a source file, the partners file): its content, or why
 * it cannot be used, in words each loader puts in its own error naming the file.
 */
export async function readJsonFile(path: string): Promise<{ json: unknown } | { problem: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    return { problem: `cannot be read: ${(err as Error).message}` };
  }
  try {
    // Editors on Windows like to save a BOM, which JSON.parse rejects.
    return { json: JSON.parse(text.replace(/^\uFEFF/, '')) };
  } catch (err) {
    return { problem: `is not valid JSON: ${(err as Error).message}` };
  }
}

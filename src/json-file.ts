/** Reading the small JSON files the daemon keeps beside its models and state. */
import { readFile } from 'node:fs/promises';

/**
 * `file` parsed, or null when it does not exist. `fail` makes the error that names the file, for a
 * file that cannot be read or text that is not JSON; the shape is the caller's to check.
 */
export async function readJsonFile(file: string, fail: (problem: 'unreadable' | 'not JSON', err: Error) => Error): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fail('unreadable', err as Error);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw fail('not JSON', err as Error);
  }
}

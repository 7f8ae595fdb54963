/**
 * Files that survive a power cut whole or not at all, readable by their owner only: the outbox's
 * log and watermark, evidence clips and verdicts, the embedded broker's account.
 */
import { constants } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { OWNER_FILE_MODE } from './owner-only.js';

export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try { await fh.sync(); } catch { /* some filesystems refuse fsync on a directory; the rename is still ordered */ } finally { await fh.close(); }
}

/**
 * Replaces `file` whole or not at all: `write` streams the content into a fresh temp file (created
 * OWNER_FILE_MODE whatever the umask, never through a symbolic link), which is fsynced and renamed
 * over `file`, then the directory is fsynced. A failed try leaves no temp file behind.
 */
export async function replaceFile(file: string, write: (out: FileHandle) => Promise<void>): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    await unlink(tmp).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err; });
    const out = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, OWNER_FILE_MODE);
    try {
      await out.chmod(OWNER_FILE_MODE); // the umask may have taken more than asked
      await write(out);
      await out.sync();
    } finally {
      await out.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(file));
}

/** Writes `data` to `file` atomically (replaceFile). */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  await replaceFile(file, (out) => out.writeFile(data)); // writeFile loops until every byte is written, or throws
}

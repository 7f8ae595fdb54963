/** Files that survive a power cut whole or not at all: the outbox's watermark and compactions, evidence clips. */
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try { await fh.sync(); } catch { /* some filesystems refuse fsync on a directory; the rename is still ordered */ } finally { await fh.close(); }
}

/** Writes a file atomically: temp file, fsync, rename, fsync directory. A failed try leaves no temp file behind. */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    const fh = await open(tmp, 'w');
    try {
      await fh.writeFile(data); // loops until every byte is written, or throws
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
  await fsyncDir(path.dirname(file));
}

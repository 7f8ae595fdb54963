/** Files that survive a power cut whole or not at all, readable by their owner only: evidence clips and verdicts, the embedded broker's account. */
import { open, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { OWNER_FILE_MODE } from './owner-only.js';

async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try { await fh.sync(); } catch { /* some filesystems refuse fsync on a directory; the rename is still ordered */ } finally { await fh.close(); }
}

/**
 * Writes a file atomically: temp file, fsync, rename, fsync directory. The file is OWNER_FILE_MODE
 * whatever the umask (or a temp file left by a crash). A failed try leaves no temp file behind.
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    const fh = await open(tmp, 'w', OWNER_FILE_MODE);
    try {
      await fh.chmod(OWNER_FILE_MODE);
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

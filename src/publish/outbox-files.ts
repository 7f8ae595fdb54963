/**
 * How the outbox touches its files: owner-only modes whatever the umask, never through a symbolic
 * link (replaced atomically by replaceFile in src/durable-file.ts).
 */
import { constants } from 'node:fs';
import { lstat, mkdir, open, chmod, type FileHandle } from 'node:fs/promises';
import { EX_CONFIG } from '../config/errors.js';
import { OWNER_DIR_MODE, OWNER_FILE_MODE } from '../owner-only.js';

/** Detections are the site's data: only the daemon's user reads them. */
export const FILE_MODE = OWNER_FILE_MODE;
export const DIR_MODE = OWNER_DIR_MODE;
const GROUP_OR_OTHER = 0o077;

/** The state directory or an outbox file cannot be used at all: a setup fault, so the daemon exits EX_CONFIG. */
export class OutboxStorageError extends Error {
  readonly exitCode = EX_CONFIG;
  constructor(message: string, readonly file: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OutboxStorageError';
  }
}

export function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}: ${e.message.replace(/^[A-Z]+: /, '')}` : String((err as Error).message ?? err);
}

function symlinkError(file: string, what: string, cause?: unknown): OutboxStorageError {
  return new OutboxStorageError(`${what} ${file} is a symbolic link; the daemon does not follow links there (it would read and append to the file it points at): remove the link (rm ${file}) and start again, and the daemon creates its own file`, file, { cause });
}

/** Refuses a symbolic link at `file` (a missing file is fine). */
export async function refuseSymlink(file: string, what: string): Promise<void> {
  const st = await lstat(file).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return null; throw err; });
  if (st?.isSymbolicLink()) throw symlinkError(file, what);
}

/** Opens without following a symbolic link; a file it creates gets FILE_MODE, an existing looser one is tightened. */
export async function openOwnerOnly(file: string, flags: number, what: string): Promise<FileHandle> {
  let fh: FileHandle;
  try {
    fh = await open(file, flags | constants.O_NOFOLLOW, FILE_MODE);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw symlinkError(file, what, err);
    throw err;
  }
  if (flags & (constants.O_WRONLY | constants.O_RDWR)) {
    try {
      await tightenMode(fh);
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
  }
  return fh;
}

async function tightenMode(fh: FileHandle): Promise<void> {
  const { mode } = await fh.stat();
  if ((mode & 0o777) !== FILE_MODE) await fh.chmod(FILE_MODE);
}

/** Tightens an existing file's mode (the watermark, written by an older gearhear under a loose umask). */
export async function tightenExisting(file: string, what: string): Promise<void> {
  let fh: FileHandle;
  try {
    fh = await openOwnerOnly(file, constants.O_RDONLY, what);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    const st = await fh.stat();
    if (st.isFile() && (st.mode & GROUP_OR_OTHER) !== 0) await fh.chmod(FILE_MODE);
  } finally {
    await fh.close();
  }
}

/** Creates the state directory owner-only when it does not exist; an existing one is left as the operator set it. */
export async function ensureDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (created !== undefined) await chmod(dir, DIR_MODE); // the umask may have taken more than asked
}

/** Writes every byte of `data` at the handle's position, or throws (a short write continues until the disk says no). */
export async function writeAll(fh: FileHandle, data: Uint8Array): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await fh.write(data, done, data.length - done);
    if (bytesWritten <= 0) throw new Error('write made no progress');
    done += bytesWritten;
  }
}

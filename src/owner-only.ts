/**
 * Owner-only files and folders, whatever the umask: evidence clips record workplace speech and the
 * embedded broker's file holds its password, so only the daemon's user (and root) may read them.
 * The mode given to open() or mkdir() is masked by the umask, hence the chmod after it.
 */
import { chmod, lstat, mkdir } from 'node:fs/promises';
import path from 'node:path';

export const OWNER_FILE_MODE = 0o600;
export const OWNER_DIR_MODE = 0o700;
const GROUP_AND_OTHER = 0o077;

/** A mode as `ls` and chmod write it: 0644. */
export const octal = (mode: number): string => `0${(mode & 0o777).toString(8)}`;

/**
 * Takes the group's and others' permissions off an existing file or folder (a symbolic link is
 * left alone). Resolves to its mode before when it was looser, else (or when it is missing) null.
 */
export async function tightenOwnerOnly(file: string): Promise<number | null> {
  const st = await lstat(file).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return null; throw err; });
  if (!st || st.isSymbolicLink() || (st.mode & GROUP_AND_OTHER) === 0) return null;
  await chmod(file, st.mode & 0o700);
  return st.mode & 0o777;
}

/**
 * Creates `dir` and any missing parents as OWNER_DIR_MODE; an existing `dir` that others could
 * read is tightened. Resolves to its mode before when it tightened one, else null.
 */
export async function ensureOwnerOnlyDir(dir: string): Promise<number | null> {
  const first = await mkdir(dir, { recursive: true, mode: OWNER_DIR_MODE });
  if (first === undefined) return tightenOwnerOnly(dir);
  // The umask may have taken more than asked: every folder made here gets exactly OWNER_DIR_MODE.
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    await chmod(d, OWNER_DIR_MODE);
    if (d === path.resolve(first) || d === path.dirname(d)) break;
  }
  return null;
}

/**
 * Owner-only folders and files whatever the umask (src/owner-only.ts, used by the evidence store and
 * the embedded broker's account; writeFileAtomic writes through it). Run under umask 000 and 022.
 */
import { mkdir, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import t from 'tap';
import { writeFileAtomic } from '../../src/durable-file.js';
import { ensureOwnerOnlyDir, tightenOwnerOnly } from '../../src/owner-only.js';
import { tempDir } from '../fixtures/gearhear-cli.js';

const modeOf = async (p: string): Promise<number> => (await stat(p)).mode & 0o777;

for (const umask of [0o000, 0o022]) {
  t.test(`umask 0${umask.toString(8)}`, async (t) => {
    const old = process.umask(umask);
    t.teardown(() => { process.umask(old); });
    const dir = await tempDir(t, 'gearhear-owner-only-');

    const nested = path.join(dir, 'a', 'b', 'evidence');
    t.equal(await ensureOwnerOnlyDir(nested), null, 'a new folder is not reported as tightened');
    for (const d of [path.join(dir, 'a'), path.join(dir, 'a', 'b'), nested]) t.equal(await modeOf(d), 0o700, `${path.relative(dir, d)}/ is 0700`);

    const file = path.join(nested, 'clip.wav');
    await writeFile(`${file}.tmp`, 'left by a crash', { mode: 0o666 });
    await writeFileAtomic(file, 'RIFF');
    t.equal(await modeOf(file), 0o600, 'writeFileAtomic writes 0600, even over a loose temp file');

    const loose = path.join(dir, 'loose');
    await mkdir(loose, { mode: 0o777 });
    await writeFile(path.join(loose, 'verdicts.json'), '{}', { mode: 0o644 });
    t.equal(await ensureOwnerOnlyDir(loose), 0o777 & ~umask, 'an existing loose folder is tightened and its old mode reported');
    t.equal(await modeOf(loose), 0o700);
    t.equal(await tightenOwnerOnly(path.join(loose, 'verdicts.json')), 0o644 & ~umask, 'a loose file reports its old mode');
    t.equal(await modeOf(path.join(loose, 'verdicts.json')), 0o600);
    t.equal(await tightenOwnerOnly(path.join(loose, 'verdicts.json')), null, 'an owner-only file is left alone');
    t.equal(await tightenOwnerOnly(path.join(loose, 'missing')), null, 'a missing file is no error');

    const target = path.join(dir, 'elsewhere.json');
    await writeFile(target, '{}', { mode: 0o644 });
    await symlink(target, path.join(loose, 'link.json'));
    t.equal(await tightenOwnerOnly(path.join(loose, 'link.json')), null, 'a symbolic link is not followed');
    t.equal(await modeOf(target), 0o644 & ~umask, 'its target keeps its mode');
  });
}

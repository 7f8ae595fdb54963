/**
 * The outbox's files hold the site's detections: owner-only whatever the umask, and never reached
 * through a symbolic link (issue 21, item 17). Real files, a real umask, real links.
 */
import t from 'tap';
import { chmod, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Outbox, OutboxStorageError } from '../../src/publish/outbox.js';
import { silentLogger } from '../../src/log.js';
import { tempDir } from './helpers.js';

const limits = { maxBytes: 1024 * 1024, maxAgeMs: 3600_000 };

async function modeOf(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777;
}

function withUmask(t: { teardown(fn: () => unknown): void }, mask: number): void {
  const before = process.umask(mask);
  t.teardown(() => { process.umask(before); });
}

for (const mask of [0o000, 0o022]) {
  t.test(`umask ${mask.toString(8).padStart(3, '0')}: a new state directory is 0700, the log and the watermark 0600`, async (t) => {
    withUmask(t, mask);
    const dir = path.join(await tempDir(t), 'state', 'gearhear');
    const box = await Outbox.open({ dir, ...limits, logger: silentLogger, ackFlushMs: 10 });
    for (let i = 0; i < 3; i++) await box.append((seq) => ({ seq, term: `t${i}` })).stored;
    box.ack(1); // a watermark write and a compaction (a new log file) follow
    await box.close();
    t.equal(await modeOf(dir), 0o700, 'state directory');
    t.equal(await modeOf(path.join(dir, 'outbox.jsonl')), 0o600, 'log, after a compaction replaced it');
    t.equal(await modeOf(path.join(dir, 'outbox.ack.json')), 0o600, 'watermark');
  });
}

t.test('existing files with looser modes are tightened at open', async (t) => {
  const dir = await tempDir(t);
  const first = await Outbox.open({ dir, ...limits, logger: silentLogger });
  await first.append((seq) => ({ seq, term: 'a' })).stored;
  first.ack(1);
  await first.close();
  for (const name of ['outbox.jsonl', 'outbox.ack.json']) await chmod(path.join(dir, name), 0o666);
  const box = await Outbox.open({ dir, ...limits, logger: silentLogger });
  t.equal(await modeOf(path.join(dir, 'outbox.jsonl')), 0o600);
  t.equal(await modeOf(path.join(dir, 'outbox.ack.json')), 0o600);
  await box.close();
});

for (const name of ['outbox.jsonl', 'outbox.ack.json']) {
  t.test(`${name} a symbolic link to another file: refused, naming the file and what to do; the other file is untouched`, async (t) => {
    const dir = await tempDir(t);
    const elsewhere = path.join(await tempDir(t), 'passwd');
    const content = 'root:x:0:0:root:/root:/bin/bash\n';
    await writeFile(elsewhere, content, { mode: 0o644 });
    const link = path.join(dir, name);
    await symlink(elsewhere, link);
    const err = await Outbox.open({ dir, ...limits, logger: silentLogger }).then(() => null, (e: unknown) => e);
    t.ok(err instanceof OutboxStorageError, 'a storage error (exit code 78: a person has to fix it)');
    t.match((err as Error).message, `${link} is a symbolic link; the daemon does not follow links there`);
    t.match((err as Error).message, `remove the link (rm ${link})`);
    t.equal(await readFile(elsewhere, 'utf8'), content, 'nothing read into the outbox, nothing appended');
    t.equal(await modeOf(elsewhere), 0o644, 'its mode left alone');
  });
}

t.test('a symbolic link planted after open is not followed by the next write either', async (t) => {
  const dir = await tempDir(t);
  const box = await Outbox.open({ dir, ...limits, logger: silentLogger, ackFlushMs: 10 });
  await box.append((seq) => ({ seq, term: 'a' })).stored;
  box.ack(1);
  await new Promise((r) => setTimeout(r, 100)); // the compaction closes the log
  const elsewhere = path.join(await tempDir(t), 'victim');
  await writeFile(elsewhere, 'keep me\n');
  await rm(path.join(dir, 'outbox.jsonl'));
  await symlink(elsewhere, path.join(dir, 'outbox.jsonl'));
  const stored = await box.append((seq) => ({ seq, term: 'b' })).stored;
  t.equal(stored.durable, false, 'the write is refused');
  t.equal(await readFile(elsewhere, 'utf8'), 'keep me\n', 'the link target is untouched');
  await box.close();
});

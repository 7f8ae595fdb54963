import t, { type Test } from 'tap';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createThrottleReader, parseThrottled } from '../../src/health/index.js';

function tempDir(t: Test): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'gearhear-throttle-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

t.test('parseThrottled decodes vcgencmd and sysfs forms', async (t) => {
  const s = parseThrottled('throttled=0x50005\n')!;
  t.equal(s.raw, '0x50005');
  t.equal(s.underVoltage, true);
  t.equal(s.freqCapped, false);
  t.equal(s.throttled, true);
  t.equal(s.underVoltageOccurred, true);
  t.equal(s.throttledOccurred, true);
  t.equal(s.freqCappedOccurred, false);
  t.equal(s.softTempLimitOccurred, false);
  const sysfs = parseThrottled('80008\n')!;
  t.equal(sysfs.softTempLimit, true);
  t.equal(sysfs.softTempLimitOccurred, true);
  t.equal(parseThrottled('0')!.underVoltage, false);
  t.equal(parseThrottled('error=1 error_msg="Command not registered"'), null);
  t.same(JSON.parse(JSON.stringify(s)), s, 'plain JSON');
});

t.test('reader: sysfs file first, then vcgencmd, else null', async (t) => {
  const dir = tempDir(t);
  const sysfs = path.join(dir, 'get_throttled');
  writeFileSync(sysfs, '50000\n');
  const fromFile = await createThrottleReader({ sysfsPath: sysfs, vcgencmd: path.join(dir, 'none') })();
  t.equal(fromFile?.underVoltageOccurred, true);
  t.equal(fromFile?.underVoltage, false);

  const vcgencmd = path.join(dir, 'vcgencmd');
  writeFileSync(vcgencmd, '#!/bin/sh\n[ "$1" = get_throttled ] && echo throttled=0x4\n');
  chmodSync(vcgencmd, 0o755);
  const fromCommand = await createThrottleReader({ sysfsPath: path.join(dir, 'absent'), vcgencmd })();
  t.equal(fromCommand?.throttled, true);

  const neither = createThrottleReader({ sysfsPath: path.join(dir, 'absent'), vcgencmd: path.join(dir, 'absent-cmd') });
  t.equal(await neither(), null);
  t.equal(await neither(), null, 'still null, without an error');
});

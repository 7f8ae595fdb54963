import t from 'tap';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/log.js';

t.test('logger writes JSON lines at or above its level', async (t) => {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString()));
  const log = createLogger('info', out);
  log.debug('hidden');
  log.warn('shown', { key: 'v' });
  const lines = chunks.join('').trim().split('\n');
  t.equal(lines.length, 1);
  const rec = JSON.parse(lines[0]!);
  t.equal(rec.level, 'warn');
  t.equal(rec.key, 'v');
});

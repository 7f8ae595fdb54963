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

t.test('numbers in log fields are rounded, however deep: 4 decimals, 3 significant digits below 0.001', async (t) => {
  const out = new PassThrough();
  const chunks: string[] = [];
  out.on('data', (c: Buffer) => chunks.push(c.toString()));
  createLogger('info', out).info('figures', { confidence: 0.9588749856330664, nested: { dutyCycle: 0.10265822784810126, tiny: 0.000123456, n: [1.23456789] }, count: 12, big: 31.380000000000003 });
  const rec = JSON.parse(chunks.join(''));
  t.same({ confidence: rec.confidence, nested: rec.nested, count: rec.count, big: rec.big }, {
    confidence: 0.9589, nested: { dutyCycle: 0.1027, tiny: 0.000123, n: [1.2346] }, count: 12, big: 31.38,
  });
});

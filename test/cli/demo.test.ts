/**
 * `gearhear demo` (what `npm run demo` runs): the built CLI on the bundled recording, with its
 * embedded broker. Its last `health` line is a sample taken after the audio was processed, so it
 * counts what the demo heard (issue 21, item 6: it used to be the sample taken at start, 0 of all).
 */
import t from 'tap';
import { runCli } from '../fixtures/gearhear-cli.js';

interface Health { pipeline: { vad: { segments: number }; detections: { total: number } } }

const r = await runCli(t, ['demo'], {}, 120_000);
const lines = r.stdout.split('\n');
const heard = lines.filter((l) => l.startsWith('HEARD '));
const healthAt = lines.map((l, i) => (l.startsWith('  mqtt gearhear/demo/health ') ? i : -1)).filter((i) => i >= 0);
const lastHeardAt = lines.findLastIndex((l) => l.startsWith('HEARD '));

t.test('the demo hears terms and exits 0', async (t) => {
  t.equal(r.code, 0, 'exit 0', { stderr: r.stderr });
  t.ok(heard.length >= 3, `heard: ${heard.join(' | ')}`);
});

t.test('the last health line is taken at the end and counts what was heard', async (t) => {
  const last = healthAt.at(-1);
  if (last === undefined) return t.fail('no health line printed', { stdout: r.stdout });
  t.ok(last > lastHeardAt, 'printed after the last detection');
  const health = JSON.parse(lines[last]!.replace(/^ {2}mqtt \S+ {2}/, '')) as Health;
  t.equal(health.pipeline.detections.total, heard.length, 'detections.total is the number of terms heard');
  t.ok(health.pipeline.vad.segments >= 1, `VAD segments: ${health.pipeline.vad.segments}`);
  t.match(lines.slice(last + 1).join('\n'), /gearhear\/demo\/status {2}offline/, 'followed only by offline');
});

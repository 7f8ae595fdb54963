import type { Test } from 'tap';
import { createGate, GATE_DEFAULTS, type VadEngine } from '../../src/vad/index.js';
import { activeRange, concat, eventProblems, runGate, SAMPLE_RATE, silence, synthesize, tempDir } from './fixtures.js';

const ms = (n: number): number => (n * SAMPLE_RATE) / 1000;
const FRAME = 512;

/** Cases every Gate implementation must pass (run by each engine's test file). */
export function gateSuite(t: Test, engine: VadEngine): void {
  const dir = tempDir(t);
  const pump = synthesize(dir, 'pump', 'the pump bearing is overheating');
  const gearbox = synthesize(dir, 'gearbox', 'check the gearbox oil level');

  t.test(`${engine}: speech with silence around it gives one segment with pre-roll`, async (t) => {
    const audio = concat(silence(1.5), pump, silence(1.5));
    const speech = activeRange(audio);
    for (const chunkSize of [1000, 7, 4099]) {
      const gate = await createGate({ engine });
      const { events, segments } = await runGate(gate, audio, chunkSize);
      t.same(eventProblems(events, audio), [], `events well formed (chunks of ${chunkSize})`);
      t.equal(segments.length, 1, `one segment (chunks of ${chunkSize})`);
      const [segment] = segments;
      if (!segment) continue;
      t.ok(segment.start <= speech.first - ms(150), `pre-roll before the speech: start ${segment.start}, speech ${speech.first}`);
      t.ok(segment.start >= speech.first - ms(GATE_DEFAULTS.preRollMs) - 2 * FRAME, 'pre-roll no longer than configured');
      t.ok(segment.end >= speech.last, `covers the end of speech: end ${segment.end}, speech ${speech.last}`);
      t.ok(segment.end <= speech.last + ms(1000), 'ends within a second of the speech');
      t.equal(segment.reason, 'silence');
      const stats = gate.stats();
      t.equal(stats.samplesIn, audio.length);
      t.equal(stats.segments, 1);
      t.equal(stats.samplesGated, segment.end - segment.start);
      await gate.dispose();
    }
  });

  t.test(`${engine}: two utterances 1.5 s apart give two segments`, async (t) => {
    const audio = concat(silence(1), pump, silence(1.5), gearbox, silence(1));
    const gate = await createGate({ engine });
    const { events, segments } = await runGate(gate, audio);
    await gate.dispose();
    t.same(eventProblems(events, audio), []);
    t.equal(segments.length, 2);
    const firstEnd = activeRange(audio.subarray(0, ms(1000) + pump.length)).last;
    const secondStart = ms(1000) + pump.length + ms(1500) + activeRange(gearbox).first;
    t.ok(segments[0]!.end >= firstEnd && segments[0]!.end < secondStart, 'first segment holds only the first utterance');
    t.ok(segments[1]!.start > firstEnd && segments[1]!.start < secondStart, 'second segment starts before the second utterance');
    t.not(segments[0]!.id, segments[1]!.id);
  });

  t.test(`${engine}: silence gives no segments`, async (t) => {
    let seed = 12345;
    const hiss = Float32Array.from({ length: 5 * SAMPLE_RATE }, () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return (seed / 2147483648 - 0.5) * 0.001; // about -75 dBFS
    });
    for (const audio of [silence(5), hiss]) {
      const gate = await createGate({ engine });
      const { segments } = await runGate(gate, audio);
      t.equal(segments.length, 0);
      t.equal(gate.stats().samplesGated, 0);
      t.equal(gate.stats().modelFrames ?? 0, 0, 'the model never ran');
      await gate.dispose();
    }
  });

  t.test(`${engine}: flush closes a segment still open at the end of input`, async (t) => {
    const audio = concat(silence(1), pump.subarray(0, activeRange(pump).last - ms(200)));
    const gate = await createGate({ engine });
    const { events, segments } = await runGate(gate, audio, 777);
    await gate.dispose();
    t.same(eventProblems(events, audio), []);
    t.equal(segments.length, 1);
    t.equal(segments[0]?.reason, 'flush');
    t.equal(segments[0]?.end, audio.length, 'the unframed remainder is included');
  });

  t.test(`${engine}: a jump in offsets closes the open segment and starts afresh`, async (t) => {
    const audio = concat(silence(1), pump);
    const gate = await createGate({ engine });
    const cut = ms(1000) + activeRange(pump).first + ms(600);
    const before = await gate.push({ samples: audio.slice(0, cut), offset: 0 });
    const after = await gate.push({ samples: audio.slice(cut), offset: cut + 5 * SAMPLE_RATE });
    await gate.dispose();
    const closing = after.slice(0, after.findIndex((e) => e.type === 'end') + 1);
    t.match(closing.at(-1), { type: 'end', reason: 'flush' }, 'the open segment is closed');
    t.ok(closing.every((e) => e.type !== 'start'), 'before any new segment starts');
    t.same(eventProblems(before.concat(closing), audio), [], 'with the unframed remainder of the old stream');
    t.equal(gate.stats().samplesIn, audio.length);
  });
}

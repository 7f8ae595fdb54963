/**
 * The listening path (gate -> streamed model -> keyword search) with the shipped model on speech
 * synthesised at test time, fed the way the daemon feeds it: 100 ms chunks, in order.
 */
import path from 'node:path';
import t from 'tap';
import { readWavFile } from '../../src/audio/file.js';
import { SAMPLE_RATE } from '../../src/audio/types.js';
import { Listener, type HeardDetection, type SegmentInfo } from '../../src/daemon/listener.js';
import { loadKeywords } from '../../src/kws/load.js';
import type { KeywordSpec } from '../../src/kws/types.js';
import { OnnxAcousticModel } from '../../src/model/onnx-model.js';
import { createGate, type VadEngine } from '../../src/vad/index.js';
import { joinWithSilence, sayWithSlt, shippedModelDir, shippedVocab, tempDir, writeCatchAllVocab } from '../fixtures/gearhear-cli.js';

const CHUNK = SAMPLE_RATE / 10;

const model = await OnnxAcousticModel.load({ dir: shippedModelDir });
t.teardown(() => model.dispose());
const dir = await tempDir(t, 'gearhear-listener-');

const keywords = async (file: string): Promise<KeywordSpec[]> => (await loadKeywords(file, { defaults: { threshold: 0.5, boost: 0 } })).specs;

interface Heard { chunk: number; detection: HeardDetection }
interface Ended { chunk: number; segment: SegmentInfo }

interface PushRun {
  heard: Heard[];
  segments: Ended[];
  audioSec: number;
  /** Chunk index at which onChunk switched keywords, if it did. */
  switchedAt: number | null;
}

/**
 * Pushes `pcm` through a fresh gate and a Listener in 100 ms chunks, noting the chunk index at
 * which every detection and segment end fires. `switchTo` is handed to setKeywords right after
 * the first detection.
 */
async function pushInChunks(pcm: Float32Array, specs: KeywordSpec[], engine: VadEngine, switchTo?: KeywordSpec[]): Promise<PushRun> {
  const gate = await createGate({ engine });
  const listener = new Listener({ gate, model, keywords: specs });
  const run: PushRun = { heard: [], segments: [], audioSec: 0, switchedAt: null };
  let chunk = 0;
  listener.on('detection', (detection) => run.heard.push({ chunk, detection }));
  listener.on('segment', (segment) => run.segments.push({ chunk, segment }));
  try {
    for (let offset = 0; offset < pcm.length; offset += CHUNK, chunk++) {
      await listener.push({ samples: pcm.slice(offset, offset + CHUNK), offset });
      if (switchTo && run.switchedAt === null && run.heard.length > 0) {
        listener.setKeywords(switchTo);
        run.switchedAt = chunk;
      }
    }
    await listener.flush();
  } finally {
    await gate.dispose();
  }
  run.audioSec = listener.stats().audioSec;
  return run;
}

const LONG_UTTERANCE = 'the main bearing on the left side of the old conveyor makes a strange sound whenever the operator starts the whole production line early in the morning';

for (const engine of ['energy', 'silero'] as const) {
  t.test(`${engine} gate: detections arrive while a long utterance is still going on`, async (t) => {
    const wav = await joinWithSilence([await sayWithSlt(LONG_UTTERANCE, path.join(dir, `long-${engine}.wav`))], path.join(dir, `long-${engine}-padded.wav`), 0.5);
    const pcm = await readWavFile(wav);
    // The shipped vocabulary: "bearing" is said in the first second of a nine-second utterance.
    const run = await pushInChunks(pcm, await keywords(shippedVocab), engine);
    t.ok(run.segments.length >= 1, 'the utterance makes a segment');
    const firstEnd = run.segments[0]!;
    t.ok(firstEnd.segment.end - firstEnd.segment.start > 4, `the first segment is long (${(firstEnd.segment.end - firstEnd.segment.start).toFixed(1)} s)`);
    const inFirst = run.heard.filter((h) => h.detection.segmentId === firstEnd.segment.segmentId);
    t.ok(inFirst.length > 0, 'the first segment has detections');
    const early = inFirst.filter((h) => h.chunk < firstEnd.chunk - 20);
    t.ok(early.length > 0, `detections fire more than 2 s before the segment ends (first at chunk ${inFirst[0]?.chunk}, segment ended at chunk ${firstEnd.chunk})`);
    const beforeItsAudio = run.heard.filter((h) => h.detection.end > ((h.chunk + 1) * CHUNK) / SAMPLE_RATE + 1e-6);
    t.same(beforeItsAudio.map((h) => `${h.detection.term} ending ${h.detection.end} s at chunk ${h.chunk}`), [], 'no detection is reported before its audio was pushed');
  });
}

t.test('recognition: "bearing" is reported before the end of a long utterance', async (t) => {
  const wav = await joinWithSilence([path.join(dir, 'long-silero.wav')], path.join(dir, 'long-real.wav'), 0.5);
  const run = await pushInChunks(await readWavFile(wav), await keywords(shippedVocab), 'silero');
  const bearing = run.heard.find((h) => /bearing/.test(h.detection.term));
  const lastEnd = run.segments.at(-1);
  t.ok(bearing, `"bearing" is heard (heard: ${run.heard.map((h) => h.detection.term).join(', ') || 'nothing'})`);
  t.ok(bearing && lastEnd && bearing.chunk < lastEnd.chunk - 20, `and reported at chunk ${bearing?.chunk}, over 2 s before the speech ends (chunk ${lastEnd?.chunk})`);
});

t.test('setKeywords mid-segment takes effect at the next segment, without dropping audio', async (t) => {
  const first = await sayWithSlt('please look at the pump on the second floor and tell me what you hear', path.join(dir, 'first.wav'));
  const second = await sayWithSlt('the fan near the window is also making a noise today', path.join(dir, 'second.wav'));
  const pcm = await readWavFile(await joinWithSilence([first, second], path.join(dir, 'two.wav'), 1));
  const before = await keywords(await writeCatchAllVocab(dir, ['bearing', 'gearbox'], 'before'));
  const after = await keywords(await writeCatchAllVocab(dir, ['oil leak'], 'after'));

  const plain = await pushInChunks(pcm, before, 'energy');
  const switched = await pushInChunks(pcm, before, 'energy', after);

  const bounds = (r: PushRun): Array<[number, number, string]> => r.segments.map(({ segment: s }) => [s.start, s.end, s.reason]);
  t.equal(switched.segments.length, 2, 'two utterances, two segments');
  t.same(bounds(switched), bounds(plain), 'switching keywords changes no segment boundary');
  t.ok(Math.abs(switched.audioSec - pcm.length / SAMPLE_RATE) < 1e-6, `every sample pushed was accounted for (${switched.audioSec} s)`);
  for (let i = 1; i < switched.segments.length; i++) {
    t.ok(switched.segments[i]!.segment.start >= switched.segments[i - 1]!.segment.end, `segment ${i + 1} starts after segment ${i} ends`);
  }
  const [one, two] = switched.segments.map((s) => s.segment.segmentId);
  t.ok(switched.switchedAt !== null && switched.switchedAt < switched.segments[0]!.chunk, `keywords switched at chunk ${switched.switchedAt}, while the first segment was open`);
  const termsIn = (id: string | undefined): string[] => [...new Set(switched.heard.filter((h) => h.detection.segmentId === id).map((h) => h.detection.term))].sort();
  t.ok(termsIn(one).length > 0 && termsIn(one).every((term) => term === 'bearing' || term === 'gearbox'), `the open segment finished with the old keywords (${termsIn(one).join(', ')})`);
  t.same(termsIn(two), ['oil leak'], 'the next segment used the new keywords');
});

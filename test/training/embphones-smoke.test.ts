import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EmbeddingPhoneModel } from '../../src/model/embedding-phones.js';

const repo = path.resolve(import.meta.dirname, '..', '..');

// The embedding phone-head pipeline in miniature: real transcribed speech with its CMU-dictionary
// phones, speech embeddings in onnxruntime-node, CTC training in torch, ONNX export with its state.
t.test('models/training/embphones/run.sh --smoke builds a phone model the keyword search can stream', { timeout: 600_000 }, async (t) => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'gearhear-embphones-smoke-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const out = path.join(work, 'embphones-model');
  const run = spawnSync(path.join(repo, 'models/training/embphones/run.sh'), ['--smoke'], {
    env: { ...process.env, GEARHEAR_TRAIN_DIR: work, EMBPHONES_OUT: out }, encoding: 'utf8', timeout: 580_000,
  });
  t.equal(run.status, 0, `run.sh --smoke exits 0\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`);
  const rows = readFileSync(path.join(work, 'embphones/speech.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { phones: string; copy: number });
  t.equal(rows.length, 24 * 3, 'each utterance in three versions (as recorded, noisy, speed-perturbed)');
  t.ok(rows.every((r) => r.phones.split(' ').length > 0), 'every utterance has phones');
  const tts = readFileSync(path.join(work, 'embphones/tts.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { phones: string; speaker: string });
  t.ok(tts.length >= 6 && tts.every((r) => r.speaker === 'tts' && r.phones.length > 0), `synthesised sentences with phones (${tts.length}; EMBPHONES_WITH_TTS=1)`);
  const model = await EmbeddingPhoneModel.load({ dir: out });
  t.teardown(() => model.dispose());
  t.equal(model.tokens.length, 40, 'blank and the 39 phones of the lexicon');
  const f = await model.createStream().accept(new Float32Array(16000));
  t.equal(f?.frames, 12 * 4, 'four frames per 80 ms hop of one second');
});

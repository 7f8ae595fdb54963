import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TermHeads } from '../../src/model/term-heads.js';
import { NegativeBank } from '../../src/model/negative-bank.js';

const repo = path.resolve(import.meta.dirname, '..', '..');

// The term-head pipeline in miniature: TTS positives of every term, real and synthesised negatives,
// speech embeddings in onnxruntime-node, training in torch, ONNX export with its manifest.
t.test('models/training/heads/run.sh --smoke builds term heads the detector can load', { timeout: 600_000 }, async (t) => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'gearhear-heads-smoke-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const out = path.join(work, 'heads-model');
  const run = spawnSync(path.join(repo, 'models/training/heads/run.sh'), ['--smoke'], {
    env: { ...process.env, GEARHEAR_TRAIN_DIR: work, HEADS_OUT: out }, encoding: 'utf8', timeout: 580_000,
  });
  t.equal(run.status, 0, `run.sh --smoke exits 0\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`);
  const heads = await TermHeads.load(out);
  t.teardown(() => heads.dispose());
  const vocab = readFileSync(path.join(repo, 'vocab/mechanical-en.txt'), 'utf8').split('\n')
    .map((l) => l.split('#')[0]!.split('|')[0]!.trim().toLowerCase()).filter(Boolean);
  for (const term of ['bearing', 'oil leak', 'cavitation']) t.ok(heads.termIndex.has(term), `a head for "${term}"`);
  t.ok(vocab.every((term) => heads.termIndex.has(term)), 'a head for every shipped term');
  const scores = await heads.score(new Float32Array(2 * 16 * 96), 2);
  t.equal(scores.length, 2 * heads.manifest.terms.length, 'one score per term per window');
  t.ok(Array.from(scores).every((s) => s >= 0 && s <= 1), 'scores are probabilities');
  const manifest = JSON.parse(readFileSync(path.join(out, 'heads.json'), 'utf8')) as { training: { ensemble?: Array<{ realWords?: number }> } };
  t.equal(manifest.training.ensemble?.length, 2, 'the mean of two seeds');
  // The real words: aligned in the embedding phone model's real speech, trained as extra columns, not exported.
  t.match(run.stdout, /aligned \d+ of \d+ clips/, 'the real speech was aligned');
  t.ok((manifest.training.ensemble?.[0]?.realWords ?? 0) > 0, `trained with real-word columns (${manifest.training.ensemble?.[0]?.realWords})`);
  t.equal(heads.manifest.terms.length, vocab.length + 14, 'only the terms are exported (the shipped vocabulary and the 14 benchmark terms)');
  const { features, featureDim } = await heads.run(new Float32Array(16 * 96), 1);
  t.equal(featureDim, 512, 'features of both members, for vocab compile');
  t.equal(features.length, 512);
  const bank = await NegativeBank.load(out);
  t.ok(bank.hops >= 70, `a negative bank beside the heads (${bank.hops} hops)`);
});

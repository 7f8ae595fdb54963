import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { OnnxAcousticModel, readManifest } from '../../src/model/index.js';

const repo = path.resolve(import.meta.dirname, '..', '..');

// The whole training pipeline in miniature: text, TTS, features, teacher, distilled student,
// pruning, fine-tuning, ONNX export, INT8 quantisation (calibrated in onnxruntime-node), manifest.
t.test('models/training/run.sh --smoke builds a model the daemon can load', { timeout: 900_000 }, async (t) => {
  const work = mkdtempSync(path.join(os.tmpdir(), 'gearhear-smoke-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const run = spawnSync(path.join(repo, 'models/training/run.sh'), ['--smoke'], {
    env: { ...process.env, GEARHEAR_TRAIN_DIR: work }, encoding: 'utf8', timeout: 850_000,
  });
  t.equal(run.status, 0, `run.sh --smoke exits 0\n${run.stdout.slice(-2000)}\n${run.stderr.slice(-2000)}`);
  const dir = path.join(work, 'model');
  for (const f of ['model.json', 'model.onnx', 'model.int8.onnx', 'model.stream.onnx', 'model.stream.int8.onnx']) t.ok(existsSync(path.join(dir, f)), `${f} written`);
  const manifest = await readManifest(dir);
  t.same(Object.keys(manifest.variants).sort(), ['fp32', 'int8']);
  t.same(Object.keys(manifest.streaming?.variants ?? {}).sort(), ['fp32', 'int8'], 'the streaming graph, both variants');
  t.equal(manifest.tokens.length, 40, 'blank + 39 ARPAbet phones');
  const json = JSON.parse(readFileSync(path.join(dir, 'model.json'), 'utf8')) as { architecture: unknown };
  t.ok(json.architecture, 'manifest records the architecture');
  for (const variant of ['fp32', 'int8'] as const) {
    const model = await OnnxAcousticModel.load({ dir, variant });
    const out = await model.run(new Float32Array(16000).map((_, i) => 0.1 * Math.sin(i / 10)));
    t.equal(out.frames, 49, `${variant}: 1 s of audio gives 49 frames of 20 ms`);
    let sum = 0;
    for (let k = 0; k < 40; k++) sum += Math.exp(out.data[k]!);
    t.ok(Math.abs(sum - 1) < 1e-3, `${variant}: rows are log-probabilities`);
    t.equal(model.streaming, 'cache', `${variant}: segments stream on the streaming graph`);
    const stream = model.createStream();
    let frames = 0;
    for (let i = 0; i < 16000; i += 512) frames += (await stream.accept(new Float32Array(Math.min(512, 16000 - i)).fill(0.01)))?.frames ?? 0;
    frames += (await stream.finish())?.frames ?? 0;
    t.equal(frames, 49, `${variant}: streaming 1 s gives the same 49 frames`);
    await model.dispose();
  }
  t.ok(existsSync(path.join(work, 'teacher-model', 'model.onnx')), 'teacher exported too');
});

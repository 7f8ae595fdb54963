"""Write models/<id>/model.json, the manifest the daemon's runner reads (with SHA-256s)."""
import argparse
import hashlib
import json
import os

from common import TOKENS
from model import HOP, SUBSAMPLE, WIN, count_params
from train import load_model


def sha256(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def write(out_dir, ckpt, model_id, version, extra=None):
    m, _ = load_model(ckpt)
    left, right = m.receptive_field()
    variants = {}
    for name, file in (('fp32', 'model.onnx'), ('int8', 'model.int8.onnx')):
        p = os.path.join(out_dir, file)
        if os.path.exists(p):
            variants[name] = dict(file=file, sha256=sha256(p), bytes=os.path.getsize(p), parameters=count_params(m))
    streaming = None
    spec_path = os.path.join(out_dir, 'model.stream.json')
    if os.path.exists(spec_path):
        # The streaming graph (stream_export.py): its caches, look-ahead, and files per variant.
        with open(spec_path) as f:
            streaming = json.load(f)
        streaming['variants'] = {}
        for name, file in (('fp32', 'model.stream.onnx'), ('int8', 'model.stream.int8.onnx')):
            p = os.path.join(out_dir, file)
            if os.path.exists(p):
                streaming['variants'][name] = dict(file=file, sha256=sha256(p), bytes=os.path.getsize(p))
    manifest = dict(schema=1, id=model_id, version=version, sampleRate=16000,
                    input=dict(name='pcm', dtype='float32'),
                    output=dict(name='log_probs', dtype='float32', kind='log-softmax'),
                    frameShiftSamples=HOP * SUBSAMPLE, windowSamples=WIN, hopSamples=HOP, subsample=SUBSAMPLE,
                    context=dict(leftFrames=left, rightFrames=right), tokens=TOKENS, blank=0,
                    variants=variants, defaultVariant='int8' if 'int8' in variants else 'fp32',
                    architecture=m.layout, **(extra or {}))
    if streaming:
        manifest['streaming'] = streaming
    with open(os.path.join(out_dir, 'model.json'), 'w') as f:
        json.dump(manifest, f, indent=2)
        f.write('\n')
    return manifest


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('out_dir')
    ap.add_argument('ckpt')
    ap.add_argument('--id', default='gearhear-kws')
    ap.add_argument('--version', default='0.1.0')
    a = ap.parse_args()
    write(a.out_dir, a.ckpt, a.id, a.version)

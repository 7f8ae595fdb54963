"""Exports a trained phone head (train.py) as ONNX with its state, plus model.json, and checks it.

Graph: embeddings [1, T, 96] and state [1, hidden, width] in (each block's last inputs); log_probs [1, 4T, 40] and the new
state out, so the daemon runs it hop by hop and carries the state (exact streaming, no recompute).
Usage: export.py MODEL.pt OUT_DIR [--version V]
"""
import argparse
import hashlib
import json
import os

import torch

from train import TOKENS, PhoneHead

ap = argparse.ArgumentParser()
ap.add_argument('ckpt')
ap.add_argument('out')
ap.add_argument('--version', default='0.1.0')
args = ap.parse_args()
ck = torch.load(args.ckpt)
model = PhoneHead(ck['hidden'], ck['dilations'], sub=ck['sub'])
model.load_state_dict(ck['state'])
model.eval()
os.makedirs(args.out, exist_ok=True)
onnx_path = os.path.join(args.out, 'model.onnx')
x = torch.randn(1, 7, 96)
h = model.initial_state(1)
torch.onnx.export(model, (x, h), onnx_path, input_names=['embeddings', 'state_in'], output_names=['log_probs', 'state_out'],
                  dynamic_axes={'embeddings': {1: 'hops'}, 'log_probs': {1: 'frames'}}, opset_version=13)
# Streaming check: hop by hop with the state equals the whole sequence.
with torch.no_grad():
    whole, _ = model(x, h)
    parts, state = [], h
    for t in range(x.shape[1]):
        y, state = model(x[:, t:t + 1], state)
        parts.append(y)
    err = (torch.cat(parts, 1) - whole).abs().max().item()
assert err < 1e-4, err
sha = hashlib.sha256(open(onnx_path, 'rb').read()).hexdigest()
manifest = {
    'schema': 1, 'id': 'gearhear-embphones', 'version': args.version, 'kind': 'embedding-phones',
    'embedding': 'google', 'framesPerEmbedding': ck['sub'],
    'input': {'embeddings': 'embeddings', 'state': 'state_in'}, 'output': {'logProbs': 'log_probs', 'state': 'state_out'},
    'state': list(h.shape), 'tokens': TOKENS, 'blank': 0,
    'file': 'model.onnx', 'sha256': sha, 'bytes': os.path.getsize(onnx_path),
    'licence': 'MIT (this project); stands on Google speech_embedding (see MODEL_CARD.md)',
    'training': {'parameters': ck['params'], 'validationPer': round(ck['val_per'], 4), 'epoch': ck['epoch']},
}
json.dump(manifest, open(os.path.join(args.out, 'model.json'), 'w'), indent=1)
print(f'{onnx_path}: {os.path.getsize(onnx_path)} bytes, streaming max error {err:.2e}')

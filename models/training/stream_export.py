"""The streaming variant of the exported graph: explicit caches instead of re-computed context.

Each call takes `pcm` for m new output frames (samples [320 a, 320 (a + m) + 320) of the
segment), the caches the previous call returned, and `mask`: m + delay values, 1 where frame
a - delay .. a + m - 1 is inside the segment, else 0. It returns log-probs for the m frames
a - delay .. a + m - 1 - delay (`delayFrames` = the network's look-ahead) and the new caches.
Each layer zeroes its frames outside the segment, exactly as the whole-segment graph pads them,
so concatenated outputs equal one run over the segment. Slices use constant offsets only (no
shape arithmetic), which keeps the per-call cost low.

  stream_export.py CKPT OUT.stream.onnx     # also writes OUT.stream.json (state names and shapes)
"""
import argparse
import json

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from export import Exported
from model import HOP, SUBSAMPLE
from train import load_model

FRAME = HOP * SUBSAMPLE  # samples per output frame
TAIL = FRAME  # extra samples a call needs past its last frame (the front end's window)


class StreamingExported(nn.Module):
    def __init__(self, e: Exported):
        super().__init__()
        self.frontend, self.subsample, self.blocks, self.out = e.frontend, e.subsample, e.blocks, e.out
        self.register_buffer('feat_mean', e.feat_mean)
        self.register_buffer('feat_inv_std', e.feat_inv_std)
        self.sub_cache = self.subsample.kernel_size[0] - SUBSAMPLE
        self.spans = [b.left + b.right for b in self.blocks]
        self.delay = sum(b.right for b in self.blocks)

    def state_shapes(self):
        c = self.subsample.out_channels
        return [[1, self.subsample.in_channels, self.sub_cache]] + [[1, c, s] for s in self.spans]

    def forward(self, pcm, mask, *caches):
        x = (self.frontend(pcm) - self.feat_mean) * self.feat_inv_std  # [1, mels, 2m]
        xs = torch.cat([caches[0], x], 2)
        new_caches = [xs[:, :, -self.sub_cache:]]
        y = F.relu(self.subsample(xs)) * mask[:, :, self.delay:]  # [1, C, m], frames a .. a + m - 1
        delay = 0
        for b, cache, span in zip(self.blocks, caches[1:], self.spans):
            xc = torch.cat([cache, y], 2)
            new_caches.append(xc[:, :, -span:])
            z = F.relu(b.pw1(b.dw(xc)))
            res = xc[:, :, b.left:-b.right] if b.right else xc[:, :, b.left:]
            delay += b.right
            valid = mask[:, :, self.delay - delay:-delay] if delay else mask[:, :, self.delay:]
            y = F.relu(res + b.pw2(z)) * valid
        out = F.log_softmax(self.out(y), dim=1).transpose(1, 2)
        return (out, *new_caches)


def segment_mask(a, m, delay, total):
    """1 for frames a - delay .. a + m - 1 inside [0, total)."""
    t = torch.arange(a - delay, a + m, dtype=torch.float32)
    return ((t >= 0) & (t < total)).float().view(1, 1, -1)


def run_streaming(s, pcm, chunks):
    """Drive the streaming module over a whole segment in chunks of output frames (as the runner does)."""
    n = pcm.shape[1]
    total = max(0, (n // HOP - 2) // SUBSAMPLE)  # frames of one whole-segment run
    caches = [torch.zeros(sh) for sh in s.state_shapes()]
    outs, a, k = [], 0, 0
    while True:
        ready = n // FRAME - 1 - a  # frames whose samples have all arrived
        m = min(chunks[k % len(chunks)], ready)
        k += 1
        if m <= 0:
            break
        o, *caches = s(pcm[:, a * FRAME:(a + m) * FRAME + TAIL], segment_mask(a, m, s.delay, 1e9), *caches)
        outs.append(o)
        a += m
    # Flush: the last `delay` frames, with zero audio past the end.
    m = total + s.delay - a
    seg = torch.cat([pcm[:, a * FRAME:], torch.zeros(1, (a + m) * FRAME + TAIL - n)], 1)
    o, *caches = s(seg, segment_mask(a, m, s.delay, total), *caches)
    outs.append(o)
    return torch.cat(outs, 1)[:, s.delay:s.delay + total]


def export_stream(ckpt, out):
    m, _ = load_model(ckpt)
    m.eval()
    e = Exported(m).eval()
    s = StreamingExported(e).eval()
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.standard_normal((1, 16000 * 3 + 123)).astype(np.float32) * 0.1)
    with torch.no_grad():
        ref = e(x)
        got = run_streaming(s, x, [7, 1, 13, 25, 3])
    assert ref.shape == got.shape, (ref.shape, got.shape)
    diff = (ref - got).abs().max().item()
    assert diff < 1e-3, f'streaming output differs from one whole run: {diff}'
    shapes = s.state_shapes()
    names_in = [f'cache_{i}' for i in range(len(shapes))]
    names_out = [f'cache_{i}_out' for i in range(len(shapes))]
    args = (x[:, :FRAME * 10 + TAIL], segment_mask(0, 10, s.delay, 1e9), *[torch.zeros(sh) for sh in shapes])
    dyn = {'pcm': {1: 'samples'}, 'mask': {2: 'frames_and_delay'}, 'log_probs': {1: 'frames'}}
    torch.onnx.export(s, args, out, input_names=['pcm', 'mask', *names_in], output_names=['log_probs', *names_out],
                      opset_version=13, dynamic_axes=dyn, do_constant_folding=True)
    spec = dict(delayFrames=s.delay, tailSamples=TAIL, mask='mask',
                states=[dict(input=i, output=o, shape=sh) for i, o, sh in zip(names_in, names_out, shapes)])
    with open(out[:-len('.onnx')] + '.json', 'w') as f:
        json.dump(spec, f, indent=2)
    print(f'exported {out}: delay {s.delay} frames, {len(shapes)} caches, max diff {diff:.2e}')


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('ckpt')
    ap.add_argument('out')
    a = ap.parse_args()
    export_stream(a.ckpt, a.out)

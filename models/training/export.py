"""Export a checkpoint to ONNX (fp32): batch-norm folded into the convolutions, the log-mel
front end inside the graph. Input `pcm` float32 [1, samples] (16 kHz, [-1, 1]); output
`log_probs` float32 [1, frames, 40] (natural log, 20 ms per frame).

  export.py CKPT OUT.onnx
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from model import HOP, WIN, AcousticModel

BLOCKS = -(-WIN // HOP)  # 10 ms blocks per analysis window
from train import load_model


def fold(conv, bn):
    """A Conv1d with bias equal to conv followed by bn (eval mode)."""
    w = conv.weight.detach()
    std = torch.sqrt(bn.running_var + bn.eps)
    scale = bn.weight.detach() / std
    c = nn.Conv1d(conv.in_channels, conv.out_channels, conv.kernel_size[0], stride=conv.stride[0],
                  dilation=conv.dilation[0], groups=conv.groups, bias=True)
    c.weight.data = w * scale.view(-1, 1, 1)
    c.bias.data = bn.bias.detach() - bn.running_mean * scale
    return c


class FoldedBlock(nn.Module):
    def __init__(self, b):
        super().__init__()
        self.left, self.right = b.left, b.right
        self.dw, self.pw1, self.pw2 = fold(b.dw, b.bn0), fold(b.pw1, b.bn1), fold(b.pw2, b.bn2)

    def forward(self, x):
        y = self.dw(F.pad(x, (self.left, self.right)))
        y = F.relu(self.pw1(y))
        return F.relu(x + self.pw2(y))


class BlockLogMel(nn.Module):
    """The same log-mel frames as model.LogMel, computed as two matrix products over frames
    assembled from 10 ms blocks: onnxruntime runs this several times faster than a Conv1d with
    400 taps and 402 output channels. Frame t covers samples [160 t, 160 t + 400), as in training;
    a trailing partial block is used once the next samples arrive (frames = samples // 160 - 2)."""

    def __init__(self, lm):
        super().__init__()
        bins = lm.n_bins
        w = lm.dft[:, 0, :]  # [2*bins, WIN]
        used = torch.nonzero(lm.mel_fb.sum(0) > 0).flatten()  # bins any mel filter uses
        span = HOP * BLOCKS
        pad = torch.zeros(len(used), span - WIN)
        self.register_buffer('w_re', torch.cat([w[:bins][used], pad], 1).t().contiguous())  # [span, K]
        self.register_buffer('w_im', torch.cat([w[bins:][used], pad], 1).t().contiguous())
        self.register_buffer('fb', lm.mel_fb[:, used].t().contiguous())  # [K, mels]

    def forward(self, pcm):  # [1, N] -> [1, mels, T]
        n_blocks = pcm.shape[1] // HOP
        blocks = pcm[0, :n_blocks * HOP].reshape(n_blocks, HOP)
        frames = torch.cat([blocks[:n_blocks - 2], blocks[1:n_blocks - 1], blocks[2:]], 1)  # [T, 3*HOP]
        re = torch.matmul(frames, self.w_re)
        im = torch.matmul(frames, self.w_im)
        mel = torch.matmul(re * re + im * im, self.fb)
        return torch.log(mel + 1e-6).t().unsqueeze(0)


class Exported(nn.Module):
    def __init__(self, m: AcousticModel):
        super().__init__()
        self.frontend = BlockLogMel(m.frontend)
        self.register_buffer('feat_mean', m.feat_mean.clone())
        self.register_buffer('feat_inv_std', 1.0 / m.feat_std.clone())
        self.sub_left, self.sub_right = m.sub_left, m.sub_right
        self.subsample = fold(m.subsample, m.bn_in)
        self.blocks = nn.ModuleList(FoldedBlock(b) for b in m.blocks)
        self.out = m.out

    def forward(self, pcm):
        x = (self.frontend(pcm) - self.feat_mean) * self.feat_inv_std
        x = F.relu(self.subsample(F.pad(x, (self.sub_left, self.sub_right))))
        for b in self.blocks:
            x = b(x)
        return F.log_softmax(self.out(x), dim=1).transpose(1, 2)


def export(ckpt, out):
    m, _ = load_model(ckpt)
    m.eval()
    e = Exported(m).eval()
    x = torch.randn(1, 16000 * 2 + 80) * 0.1  # a partial block at the end
    with torch.no_grad():
        ref = m(x)
        got = e(x)
    # Same frames, except that the block front end leaves out the last (partial-block) frame.
    n = got.shape[1]
    assert ref.shape[1] - n in (0, 1), (ref.shape, got.shape)
    left, right = m.receptive_field()
    diff = (ref[:, :n - right] - got[:, :n - right]).abs().max()
    assert diff < 1e-3, f'export changed the output: {diff}'
    torch.onnx.export(e, x, out, input_names=['pcm'], output_names=['log_probs'], opset_version=13,
                      dynamic_axes={'pcm': {1: 'samples'}, 'log_probs': {1: 'frames'}}, do_constant_folding=True)
    return m


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('ckpt')
    ap.add_argument('out')
    a = ap.parse_args()
    export(a.ckpt, a.out)
    print('exported', a.out)

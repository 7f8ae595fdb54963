"""Export a checkpoint to ONNX (fp32): batch-norm folded into the convolutions, the log-mel
front end inside the graph. Input `pcm` float32 [1, samples] (16 kHz, [-1, 1]); output
`log_probs` float32 [1, frames, 40] (natural log, 20 ms per frame).

  export.py CKPT OUT.onnx
"""
import argparse

import torch
import torch.nn as nn
import torch.nn.functional as F

from model import AcousticModel
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


class Exported(nn.Module):
    def __init__(self, m: AcousticModel):
        super().__init__()
        self.frontend = m.frontend
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
    x = torch.randn(1, 16000 * 2) * 0.1
    with torch.no_grad():
        ref = m(x)
        got = e(x)
    assert torch.allclose(ref, got, atol=1e-3), f'folding changed the output: {(ref - got).abs().max()}'
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

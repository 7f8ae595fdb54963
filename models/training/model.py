"""Acoustic model: log-mel front end inside the graph, then a stack of depthwise-separable
residual 1-D conv blocks at 20 ms per frame, CTC over 39 ARPAbet phones + blank.

The front end computes the DFT with a fixed-weight Conv1d (torch 1.13 cannot export stft).
Each block has a small, fixed look-ahead (right padding) so the model streams with a bounded
delay; the runner in src/model computes exact chunked output from the receptive field below.
"""
import math

import torch
import torch.nn as nn
import torch.nn.functional as F
import torchaudio

from common import TOKENS

N_FFT = 400
WIN = 400
HOP = 160
N_MELS = 80
SUBSAMPLE = 2  # output frame = 2 mel frames = 20 ms


class LogMel(nn.Module):
    def __init__(self):
        super().__init__()
        n_bins = N_FFT // 2 + 1
        n = torch.arange(WIN, dtype=torch.float64)
        window = torch.hann_window(WIN, periodic=True, dtype=torch.float64)
        k = torch.arange(n_bins, dtype=torch.float64).unsqueeze(1)
        ang = 2 * math.pi * k * n / N_FFT
        weight = torch.cat([torch.cos(ang) * window, -torch.sin(ang) * window], 0).float()
        self.register_buffer('dft', weight.unsqueeze(1))  # [2*bins, 1, WIN]
        fb = torchaudio.functional.melscale_fbanks(n_bins, 20.0, 7600.0, N_MELS, 16000, norm=None, mel_scale='htk')
        self.register_buffer('mel_fb', fb.t().contiguous().float())  # [mels, bins]
        self.n_bins = n_bins

    def forward(self, pcm):  # [B, N] -> [B, mels, T]
        spec = F.conv1d(pcm.unsqueeze(1), self.dft, stride=HOP)
        re, im = spec[:, :self.n_bins], spec[:, self.n_bins:]
        power = re * re + im * im
        mel = torch.matmul(self.mel_fb, power)
        return torch.log(mel + 1e-6)


def mel_frames(n_samples):
    return 0 if n_samples < WIN else (n_samples - WIN) // HOP + 1


class Block(nn.Module):
    """Depthwise conv (kernel k, dilation d, `right` frames of look-ahead) -> pointwise expand
    (hidden, the channels that pruning removes) -> pointwise project, residual."""

    def __init__(self, channels, hidden, kernel, dilation, right):
        super().__init__()
        span = (kernel - 1) * dilation
        self.left, self.right = span - right * dilation, right * dilation
        self.dw = nn.Conv1d(channels, channels, kernel, dilation=dilation, groups=channels, bias=False)
        self.bn0 = nn.BatchNorm1d(channels)
        self.pw1 = nn.Conv1d(channels, hidden, 1, bias=False)
        self.bn1 = nn.BatchNorm1d(hidden)
        self.pw2 = nn.Conv1d(hidden, channels, 1, bias=False)
        self.bn2 = nn.BatchNorm1d(channels)

    def forward(self, x):
        y = self.bn0(self.dw(F.pad(x, (self.left, self.right))))
        y = F.relu(self.bn1(self.pw1(y)))
        y = self.bn2(self.pw2(y))
        return F.relu(x + y)


# (dilation, look-ahead taps) per block.
STUDENT_LAYOUT = dict(channels=160, hidden=320, kernel=3,
                      blocks=[(1, 1), (2, 1), (4, 0), (1, 1), (2, 1), (4, 0), (1, 1), (2, 0)])
TEACHER_LAYOUT = dict(channels=320, hidden=640, kernel=5,
                      blocks=[(1, 1), (2, 1), (4, 0), (1, 1), (2, 1), (4, 0), (1, 1), (2, 0), (1, 0), (2, 0)])


class AcousticModel(nn.Module):
    def __init__(self, channels, hidden, kernel, blocks, hidden_per_block=None):
        super().__init__()
        self.layout = dict(channels=channels, hidden=hidden, kernel=kernel, blocks=[list(b) for b in blocks],
                           hidden_per_block=hidden_per_block)
        self.frontend = LogMel()
        self.register_buffer('feat_mean', torch.zeros(N_MELS, 1))
        self.register_buffer('feat_std', torch.ones(N_MELS, 1))
        # Subsampling conv over mel frames: kernel 4, stride 2, one mel frame of look-ahead.
        self.sub_left, self.sub_right = 2, 0
        self.subsample = nn.Conv1d(N_MELS, channels, 4, stride=SUBSAMPLE, bias=False)
        self.bn_in = nn.BatchNorm1d(channels)
        hp = hidden_per_block or [hidden] * len(blocks)
        self.blocks = nn.ModuleList(Block(channels, h, kernel, d, r) for (d, r), h in zip(blocks, hp))
        self.out = nn.Conv1d(channels, len(TOKENS), 1)

    def encode_features(self, feats):  # normalised?? no: raw log-mel [B, mels, T] -> logits [B, V, T']
        x = (feats - self.feat_mean) / self.feat_std
        x = F.relu(self.bn_in(self.subsample(F.pad(x, (self.sub_left, self.sub_right)))))
        for b in self.blocks:
            x = b(x)
        return self.out(x)

    def forward(self, pcm):  # [B, N] float PCM -> log-probs [B, T', V]
        logits = self.encode_features(self.frontend(pcm))
        return F.log_softmax(logits, dim=1).transpose(1, 2)

    def receptive_field(self):
        """(left, right) context in output frames needed for an exact output frame."""
        left = sum(b.left for b in self.blocks) + 1
        right = sum(b.right for b in self.blocks) + 1
        return left, right


def out_frames(n_mel):
    return (n_mel + 2 - 4) // SUBSAMPLE + 1 if n_mel >= 2 else 0


def build(kind, hidden_per_block=None):
    layout = dict(STUDENT_LAYOUT if kind == 'student' else TEACHER_LAYOUT)
    return AcousticModel(hidden_per_block=hidden_per_block, **layout)


def count_params(m):
    return sum(p.numel() for n, p in m.named_parameters())

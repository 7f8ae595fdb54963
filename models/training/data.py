"""Feature datasets (precomputed by features.py), length-bucketed batches, SpecAugment."""
import json
import os

import numpy as np
import torch

from common import WORK
from model import out_frames


class FeatureSet:
    def __init__(self, split, teacher_logits=None):
        d = os.path.join(WORK, 'feats')
        self.feats = np.load(os.path.join(d, split + '.npy'), mmap_mode='r')
        self.index = json.load(open(os.path.join(d, split + '.json')))
        # Drop utterances too short for their labels (CTC needs T >= labels + repeats).
        keep = []
        for i, u in enumerate(self.index):
            lab = u['labels']
            need = len(lab) + sum(1 for a, b in zip(lab, lab[1:]) if a == b)
            if out_frames(u['frames']) >= need:
                keep.append(i)
        self.ids = keep
        self.teacher = None
        if teacher_logits:
            self.teacher = np.load(teacher_logits + '.npy', mmap_mode='r')
            self.teacher_offsets = json.load(open(teacher_logits + '.json'))

    def hours(self):
        return sum(self.index[i]['frames'] for i in self.ids) * 0.01 / 3600

    def batches(self, max_frames, rng, shuffle=True):
        ids = sorted(self.ids, key=lambda i: self.index[i]['frames'])
        out, cur, cur_max = [], [], 0
        for i in ids:
            n = self.index[i]['frames']
            if cur and max(cur_max, n) * (len(cur) + 1) > max_frames:
                out.append(cur)
                cur, cur_max = [], 0
            cur.append(i)
            cur_max = max(cur_max, n)
        if cur:
            out.append(cur)
        if shuffle:
            rng.shuffle(out)
        return out

    def collate(self, ids):
        lens = [self.index[i]['frames'] for i in ids]
        T = max(lens)
        x = torch.zeros(len(ids), 80, T)
        for b, i in enumerate(ids):
            u = self.index[i]
            x[b, :, :lens[b]] = torch.from_numpy(np.asarray(self.feats[u['offset']:u['offset'] + lens[b]], dtype=np.float32).T)
            if lens[b] < T:  # pad with the utterance's quietest level, not zeros (log-mel)
                x[b, :, lens[b]:] = x[b, :, :lens[b]].min()
        labels = torch.cat([torch.tensor(self.index[i]['labels'], dtype=torch.long) for i in ids])
        label_lens = torch.tensor([len(self.index[i]['labels']) for i in ids], dtype=torch.long)
        out_lens = torch.tensor([out_frames(n) for n in lens], dtype=torch.long)
        teacher = None
        if self.teacher is not None:
            To = out_frames(T)
            teacher = torch.zeros(len(ids), To, self.teacher.shape[1])
            for b, i in enumerate(ids):
                off, n = self.teacher_offsets[i]
                teacher[b, :n] = torch.from_numpy(np.asarray(self.teacher[off:off + n], dtype=np.float32))
        return x, labels, label_lens, out_lens, teacher


def spec_augment(x, rng, n_freq=2, f_width=10, n_time=2, t_frac=0.05, gain_db=6.0):
    """Frequency and time masks, and a random gain (a constant shift of log-mel)."""
    B, F, T = x.shape
    x = x + torch.empty(B, 1, 1).uniform_(-gain_db, gain_db) * (np.log(10) / 10)
    fill = x.mean()
    for b in range(B):
        for _ in range(n_freq):
            w = int(rng.integers(0, f_width + 1))
            f0 = int(rng.integers(0, F - w + 1))
            x[b, f0:f0 + w] = fill
        for _ in range(n_time):
            w = int(rng.integers(0, max(1, int(T * t_frac)) + 1))
            t0 = int(rng.integers(0, max(1, T - w + 1)))
            x[b, :, t0:t0 + w] = fill
    return x

"""Channel pruning by network slimming: the hidden (expansion) channels of every block are
ranked by |batch-norm scale| (pushed toward zero by the L1 term during distillation) and the
weakest are physically removed from pw1, bn1 and pw2 — a smaller dense model, not a mask.

  prune.py --keep 0.7    # keep 70% of hidden channels overall (at least 32 per block)
"""
import argparse
import os

import torch

from model import AcousticModel, count_params
from train import CKPT, load_model, save


def prune(model, keep, min_per_block=32):
    scales = torch.cat([b.bn1.weight.detach().abs() for b in model.blocks])
    k = max(1, int(len(scales) * keep))
    threshold = scales.sort(descending=True).values[k - 1]
    hidden = []
    for b in model.blocks:
        s = b.bn1.weight.detach().abs()
        idx = torch.nonzero(s >= threshold).flatten()
        if len(idx) < min_per_block:
            idx = s.argsort(descending=True)[:min_per_block].sort().values
        hidden.append(len(idx))
        b.keep_idx = idx
    lay = model.layout
    slim = AcousticModel(lay['channels'], lay['hidden'], lay['kernel'], [tuple(x) for x in lay['blocks']], hidden)
    sd = model.state_dict()
    new = slim.state_dict()
    for name in new:
        new[name] = sd[name].clone()
    for i, b in enumerate(model.blocks):
        idx = b.keep_idx
        p = f'blocks.{i}.'
        new[p + 'pw1.weight'] = sd[p + 'pw1.weight'][idx].clone()
        for t in ('weight', 'bias', 'running_mean', 'running_var'):
            new[p + 'bn1.' + t] = sd[p + 'bn1.' + t][idx].clone()
        new[p + 'pw2.weight'] = sd[p + 'pw2.weight'][:, idx].clone()
    slim.load_state_dict(new)
    return slim, hidden


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--keep', type=float, default=0.7)
    ap.add_argument('--from', dest='src', default='student.pt', help='checkpoint in the ckpt folder to prune')
    args = ap.parse_args()
    model, ck = load_model(os.path.join(CKPT, args.src))
    before = count_params(model)
    slim, hidden = prune(model, args.keep)
    save(os.path.join(CKPT, 'student-pruned.pt'), slim, None, dict(step=0, epoch=0, best=None, log=[], pruned_from=before))
    print(f'pruned student: {before} -> {count_params(slim)} parameters, hidden per block {hidden}')


if __name__ == '__main__':
    main()

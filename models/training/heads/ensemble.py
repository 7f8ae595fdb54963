"""Average several trained heads (train_heads.py outputs with heads.pt) into one shipped model.

Seeds differ by up to 11 points of miss rate on real speech (issue 10); the mean of their
probabilities is steadier than any one of them. `scores` is the mean of the members' sigmoid
scores; `features` is their last hidden layers side by side.
Usage: ensemble.py OUT_DIR DIR1 DIR2 [...] [--version V] [--default-threshold T]
"""
import argparse
import json
import os
import sys

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from train_heads import Head, Scored, write_model  # noqa: E402


class Mean(nn.Module):
    def __init__(self, members):
        super().__init__()
        self.members = nn.ModuleList(Scored(m) for m in members)

    def forward(self, x):
        outs = [m(x) for m in self.members]
        return torch.stack([s for s, _ in outs]).mean(0), torch.cat([f for _, f in outs], 1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('out')
    ap.add_argument('members', nargs='+')
    ap.add_argument('--version', default=None)
    ap.add_argument('--default-threshold', type=float, default=None)
    a = ap.parse_args()
    manifests = [json.load(open(os.path.join(d, 'heads.json'))) for d in a.members]
    terms = [t['term'] for t in manifests[0]['terms']]
    for d, m in zip(a.members, manifests):
        if [t['term'] for t in m['terms']] != terms:
            sys.exit(f'{d}/heads.json: its terms differ from {a.members[0]}/heads.json; ensemble heads trained on the same terms')
    members = []
    for d, m in zip(a.members, manifests):
        head = Head(len(terms), m['training']['hidden'])
        head.load_state_dict(torch.load(os.path.join(d, 'heads.pt')))
        members.append(head.eval())
    durations = {t['term']: t['durationSec'] for t in manifests[0]['terms']}
    meta = {'version': a.version or manifests[0]['version'], 'defaultThreshold': a.default_threshold if a.default_threshold is not None else manifests[0]['defaultThreshold'],
            'ensemble': [m['training'] for m in manifests]}
    write_model(Mean(members), terms, durations, a.out, meta)


if __name__ == '__main__':
    main()

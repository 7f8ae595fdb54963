"""The prototype matcher: term detection that learns, from real words, how a synthesised word
sounds when real people say it.

The term heads learn each term from synthesised voices only, so they learn the term as Debian's
voices say it. The matcher instead learns a *comparison*: a query encoder for real audio (the last
16 speech embeddings, 1.28 s) and a prototype encoder for synthesised audio, trained on real words
of the aligned training speech (align_words.py, proto_words.py; never a shipped or benchmark term)
against the synthesised clips of the same words (proto_prepare.py). A term's prototype is the mean
of its synthesised clips' encodings; its score is sigmoid(scale * cos(query, prototype) + bias).
A term it never learnt needs only synthesised clips, no training.

Writes OUT/heads.onnx + heads.json (the term heads' interface: `scores` [batch, terms] for the
shipped vocabulary and the benchmark terms, prototypes from their positives in WORK/heads pos and
possent; `features` the normalised query), OUT/proto.pt (both encoders) and OUT/log.json.
Usage: proto_train.py WORK OUT [--steps 4000] [--seed 1] [--dim 128] [--val-words 60]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from split import bench_terms, shipped_terms  # noqa: E402
from train_heads import DIM, HOP, WIN, Windows, load_set, write_model  # noqa: E402


class Encoder(nn.Module):
    def __init__(self, hidden, dim, dropout=0.1):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(WIN * DIM, hidden), nn.LayerNorm(hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.LayerNorm(hidden), nn.ReLU(), nn.Linear(hidden, dim))

    def forward(self, x):
        return F.normalize(self.net(x), dim=-1)


class Matcher(nn.Module):
    def __init__(self, hidden=256, dim=128):
        super().__init__()
        self.query, self.proto = Encoder(hidden, dim), Encoder(hidden, dim)
        self.scale = nn.Parameter(torch.tensor(10.0))
        self.bias = nn.Parameter(torch.tensor(-6.0))

    def prototypes(self, tts, per):
        """tts [types * per, 16, 96] (per windows a type, in order) -> [types, dim]."""
        return F.normalize(self.proto(tts).view(-1, per, self.query.net[-1].out_features).mean(1), dim=-1)

    def logits(self, q, protos):
        return self.scale * self.query(q) @ protos.T + self.bias


class Exported(nn.Module):
    def __init__(self, m, protos):
        super().__init__()
        self.q = m.query
        self.register_buffer('p', protos)
        self.scale, self.bias = float(m.scale), float(m.bias)

    def forward(self, x):
        f = self.q(x)
        return torch.sigmoid(self.scale * f @ self.p.T + self.bias), f


def end_hop(end):
    return -(-int(end) // HOP)


def load_real(work, W, types):
    """Windows of the aligned real clips: padded ends, the type each window is positive for (-1 none), the
    type masked there (ambiguous: just before a word's end), and per type its positive occurrences."""
    ed = os.path.join(work, 'embphones')
    aligned = {}
    for line in open(os.path.join(ed, 'words.jsonl')):
        r = json.loads(line)
        if r['words']:
            aligned[(r['set'], r['row'])] = r['words']
    ends, pos, masked, occ = [], [], [], {}
    for name in ('speech-a', 'speech-b'):
        rows, emb = load_set(ed, name)
        keep = [(i, r) for i, r in enumerate(rows) if (name, i) in aligned]
        starts = W.add(emb, [r for _, r in keep])
        for (i, r), s in zip(keep, starts):
            n = r['embCount']
            p, m = np.full(n, -1), np.full(n, -1)
            for w, end in aligned[(name, i)]:
                t = types.get(w)
                if t is None:
                    continue
                ke = end_hop(end)
                if ke - 1 >= n:
                    continue
                m[max(0, ke - 3):max(0, ke - 1)] = t
                p[max(0, ke - 1):min(n, ke + 3)] = t
                occ.setdefault(t, []).append(s + ke - 1)
            ends.extend(range(s, s + n))
            pos.extend(p)
            masked.extend(m)
    return np.array(ends), np.array(pos), np.array(masked), {t: np.array(v) for t, v in occ.items()}


def load_tts(work, W, set_names, index):
    """Per term (index: term -> id) the padded ends of its synthesised windows (the 3 hops around its end)."""
    out = {}
    for name in set_names:
        rows, emb = load_set(os.path.join(work, 'heads'), name)
        keep = [r for r in rows if r.get('term') in index]
        starts = W.add(emb, keep)
        for r, s in zip(keep, starts):
            ke = min(end_hop(r['end']), r['embCount'])
            for k in (ke - 2, ke - 1, ke):
                if 0 <= k < r['embCount']:
                    out.setdefault(index[r['term']], []).append(s + k)
    return {t: np.array(v) for t, v in out.items()}


def evaluate(model, W, types_list, occ, neg_ends, neg_pos, neg_mask, protos_ends, per=24):
    """Mean miss at 0 false alarms over `types_list`: a type's positives (best of its 4 windows) against
    every negative window not positive (or masked) for it."""
    model.eval()
    with torch.no_grad():
        rng = np.random.default_rng(0)
        tts = np.concatenate([rng.choice(protos_ends[t], per) for t in types_list])
        protos = model.prototypes(W.batch(tts), per)
        neg = torch.cat([model.logits(W.batch(neg_ends[i:i + 4096]), protos) for i in range(0, len(neg_ends), 4096)])
        misses = []
        for j, t in enumerate(types_list):
            o = occ[t]
            pz = torch.stack([model.logits(W.batch(o + k), protos[j:j + 1])[:, 0] for k in range(4)]).max(0).values
            nz = neg[torch.as_tensor((neg_pos != t) & (neg_mask != t)), j]
            misses.append(float((pz <= nz.max()).float().mean()))
    model.train()
    return float(np.mean(misses)), misses


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('work')
    ap.add_argument('out')
    ap.add_argument('--steps', type=int, default=4000)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--dim', type=int, default=128)
    ap.add_argument('--hidden', type=int, default=256)
    ap.add_argument('--types-per-step', type=int, default=128)
    ap.add_argument('--tts-per-type', type=int, default=8)
    ap.add_argument('--neg-per-step', type=int, default=1024)
    ap.add_argument('--neg-weight', type=float, default=10.0)
    ap.add_argument('--top-k', type=int, default=512)
    ap.add_argument('--val-words', type=int, default=60)
    ap.add_argument('--lr', type=float, default=1e-3)
    a = ap.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(int(os.environ.get('HEADS_THREADS', '2')))
    rng = np.random.default_rng(a.seed)
    t0 = time.time()
    words = json.load(open(os.path.join(a.work, 'heads', 'proto-words.json')))
    types = {w: i for i, w in enumerate(words)}
    terms = shipped_terms() + bench_terms()
    tindex = {t: i for i, t in enumerate(terms)}
    W = Windows(os.path.join(a.work, 'heads'))
    r_ends, r_pos, r_mask, occ = load_real(a.work, W, types)
    tts = load_tts(a.work, W, ['protopos'], types)
    term_tts = load_tts(a.work, W, ['pos', 'possent'], tindex)
    rows, emb = load_set(os.path.join(a.work, 'heads'), 'negnoise')
    noise_starts = W.add(emb, rows)
    noise_ends = np.concatenate([np.arange(s, s + r['embCount']) for s, r in zip(noise_starts, rows)])
    W.finish()
    usable = [t for t in range(len(words)) if t in occ and t in tts and len(tts[t]) >= 12]
    order = rng.permutation(usable)
    val, train = sorted(order[:a.val_words].tolist()), sorted(order[a.val_words:].tolist())
    # Validation negatives: a fixed sample of real windows (about 0.5 h).
    vsel = rng.choice(len(r_ends), 24000, replace=False)
    print(f'{len(usable)} usable words ({len(train)} train, {len(val)} held out), {len(r_ends)} real windows, '
          f'{sum(len(v) for v in occ.values())} real occurrences, {sum(len(v) for v in tts.values())} tts windows; {time.time() - t0:.0f} s', flush=True)
    model = Matcher(a.hidden, a.dim)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=a.steps, pct_start=0.1)
    train_arr = np.array(train)
    log = []
    for step in range(1, a.steps + 1):
        bt = rng.choice(train_arr, a.types_per_step, replace=False)
        col = {t: j for j, t in enumerate(bt)}
        tsel = np.concatenate([rng.choice(tts[t], a.tts_per_type) for t in bt])
        protos = model.prototypes(W.batch(tsel), a.tts_per_type)
        qpos = np.concatenate([rng.choice(occ[t], 2) + rng.integers(0, 4, 2) for t in bt])
        qneg = rng.integers(0, len(r_ends), a.neg_per_step)
        q_ends = np.concatenate([qpos, r_ends[qneg], rng.choice(noise_ends, 64)])
        # Labels of every (query, type) pair: the window's own aligned word (positives are padded indices,
        # so look them up through r_ends' inverse: positives were built from occ, which are padded ends).
        lab = torch.zeros(len(q_ends), len(bt))
        wgt = torch.ones(len(q_ends), len(bt))
        qp = np.repeat(bt, 2)
        lab[torch.arange(len(qp)), torch.as_tensor([col[t] for t in qp])] = 1
        for k, i in enumerate(qneg):
            row = len(qp) + k
            p, m = r_pos[i], r_mask[i]
            if p in col:
                lab[row, col[p]] = 1
            if m in col:
                wgt[row, col[m]] = 0
        z = model.logits(W.batch(q_ends), protos)
        loss_all = F.binary_cross_entropy_with_logits(z, lab, reduction='none') * wgt
        posm, negm = lab > 0, (lab == 0) & (wgt > 0)
        lpos = loss_all[posm].mean()
        lneg = loss_all[negm]
        loss = lpos + a.neg_weight * lneg.mean() + lneg.topk(min(a.top_k, len(lneg))).values.mean()
        # Which type is it: a positive's own prototype against the others in the batch.
        ce = F.cross_entropy(z[:len(qp)], torch.as_tensor([col[t] for t in qp]))
        loss = loss + 0.5 * ce
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 250 == 0 or step == a.steps:
            vmiss, _ = evaluate(model, W, val, occ, r_ends[vsel], r_pos[vsel], r_mask[vsel], tts)
            log.append({'step': step, 'loss': float(loss), 'pos': float(lpos), 'ce': float(ce), 'valMiss0FA': vmiss})
            print(f'step {step} loss {float(loss):.3f} pos {float(lpos):.3f} ce {float(ce):.3f} scale {float(model.scale):.1f} '
                  f'held-out words miss@0FA {vmiss:.3f} {time.time() - t0:.0f} s', flush=True)
    os.makedirs(a.out, exist_ok=True)
    torch.save({'state': model.state_dict(), 'hidden': a.hidden, 'dim': a.dim, 'words': words, 'val': val}, os.path.join(a.out, 'proto.pt'))
    model.eval()
    with torch.no_grad():
        protos = torch.cat([model.prototypes(W.batch(term_tts[i]), len(term_tts[i])) for i in range(len(terms))])
    spoken = {}
    for r in (json.loads(line) for line in open(os.path.join(a.work, 'heads', 'pos.jsonl'))):
        spoken.setdefault(r['term'], []).append((r['end'] - r['start']) / 16000)
    durations = {t: float(np.median(spoken[t])) if t in spoken else 0.6 for t in terms}
    write_model(Exported(model, protos), terms, durations, a.out,
                {'version': '0.5.0-proto', 'defaultThreshold': 0.5, 'kind': 'prototype matcher', 'steps': a.steps, 'seed': a.seed,
                 'words': len(train), 'heldOutWords': len(val), 'dim': a.dim})
    json.dump(log, open(os.path.join(a.out, 'log.json'), 'w'), indent=1)


if __name__ == '__main__':
    main()

"""Distil Google's speech embedding (mel window [76 x 32] -> 96 dims) into a smaller network of ours.

Data: dump_mel.mjs output (per clip: the padded mel frames as the daemon's stream makes them, and the
teacher's embeddings of its windows). Loss = 0.3 * MSE of the embedding (each dimension scaled by
the teacher's std) + 0.7 * binary knowledge distillation (T = 2) through the frozen, shipped term
heads (the two members of models/gearhear-heads, run3 and run4): runs of 16 consecutive windows of
a clip, padded before its start with the initial embedding (the teacher's / the student's embedding
of a window of ones, as the daemon's ring buffer is), through each member's logits.
Held out: 5 % of the clips (by clip). Trains for a wall-clock budget (the learning rate follows a
cosine over the budget).

  train_student.py train DATA OUT [--heads MEMBER_DIR...] [--minutes 25]   (default: heads/run.sh's member-1, member-2)
  train_student.py train DATA OUT2 --resume OUT/student.pt --lr 1e-3 --warmup 50 --seed 2   # more steps
  train_student.py export OUT/student.pt OUT_DIR      # student.onnx ([n,76,32,1] `input_1` -> [n,96])
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'heads'))

WIN_FRAMES = 76
BINS = 32
DIM = 96
RUN = 16
T = 2.0


def ds_block(cin, cout, stride):
    return nn.Sequential(
        nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(),
        nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


def cbr(cin, cout, stride):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU())


class Student(nn.Module):
    """Plain 3x3 convs at the two finer resolutions, depthwise-separable blocks at the coarser ones;
    input [n, 76, 32, 1] as the teacher's, output [n, 96]. ~269 k parameters, ~7.4 M MACs a window."""

    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            cbr(1, 24, 2),          # 38 x 16
            cbr(24, 48, 2),         # 19 x 8
            cbr(48, 64, 1),
            ds_block(64, 128, 2),   # 10 x 4
            ds_block(128, 128, 1),
            ds_block(128, 160, 2),  # 5 x 2
            ds_block(160, 160, 1))
        self.out = nn.Linear(160 * 5 * 2, DIM)

    def forward(self, x):
        x = x.reshape(-1, 1, WIN_FRAMES, BINS)
        return self.out(self.body(x).flatten(1))


def load_heads(dirs):
    from train_heads import Head
    members = []
    for d in dirs:
        m = json.load(open(os.path.join(d, 'heads.json')))
        h = Head(len(m['terms']), m['training']['hidden'])
        h.load_state_dict(torch.load(os.path.join(d, 'heads.pt')))
        h.eval()
        for p in h.parameters():
            p.requires_grad_(False)
        members.append(h)
    return members


class Data:
    def __init__(self, d, init_path, holdout=0.05, seed=0):
        self.clips = [json.loads(line) for line in open(os.path.join(d, 'clips.jsonl'))]
        self.mel = torch.from_numpy(np.fromfile(os.path.join(d, 'mel.f32'), dtype=np.float32).reshape(-1, BINS))
        self.emb = torch.from_numpy(np.fromfile(os.path.join(d, 'emb.f32'), dtype=np.float32).reshape(-1, DIM))
        self.init = torch.tensor(json.load(open(init_path)), dtype=torch.float32)
        rng = np.random.default_rng(seed)
        n = len(self.clips)
        held = rng.random(n) < holdout
        self.train_ids = np.nonzero(~held)[0]
        self.held_ids = np.nonzero(held)[0]
        self.mel_off = np.array([c['melOffset'] for c in self.clips])
        self.emb_off = np.array([c['embOffset'] for c in self.clips])
        self.count = np.array([c['embCount'] for c in self.clips])
        std = self.emb.std(0)
        self.std = std.clamp_min(1e-3)
        self.ones = torch.ones(WIN_FRAMES, BINS)
        # Hops of the positive clips where the term ends (where the heads' scores are high).
        self.pos_ends = []
        for i in self.train_ids:
            c = self.clips[i]
            if c['set'] in ('pos', 'possent') and c.get('end'):
                ke = -(-c['end'] // 1280)
                for k in range(ke, min(ke + 4, c['embCount'] + 1)):
                    self.pos_ends.append((i, k))
        self.pos_ends = np.array(self.pos_ends)
        w = self.count[self.train_ids].astype(np.float64)
        self.train_p = w / w.sum()

    def windows(self, clip, k):
        """Mel windows k (1-based; k < 1: a window of ones) of clips, [B, 76, 32], and teacher embeddings [B, 96]."""
        clip, k = np.asarray(clip), np.asarray(k)
        valid = k >= 1
        kk = np.where(valid, k, 1)
        start = self.mel_off[clip] + 8 * kk - 3
        rows = torch.as_tensor(start)[:, None] + torch.arange(WIN_FRAMES)[None]
        x = self.mel[rows]
        v = torch.as_tensor(valid)
        x[~v] = 1.0
        t = self.emb[torch.as_tensor(self.emb_off[clip] + kk - 1)]
        t[~v] = self.init
        return x, t, v

    def runs(self, rng, n_runs, pos_frac=0.3):
        """Runs of 16 consecutive windows ending at a random hop of a random clip (some at a term's end)."""
        n_pos = int(n_runs * pos_frac) if len(self.pos_ends) else 0
        pe = self.pos_ends[rng.integers(0, len(self.pos_ends), n_pos)] if n_pos else np.zeros((0, 2), int)
        clips = rng.choice(self.train_ids, n_runs - n_pos, p=self.train_p)
        ends = np.array([rng.integers(1, self.count[c] + 1) for c in clips])
        clips = np.concatenate([pe[:, 0], clips]).astype(int)
        ends = np.concatenate([pe[:, 1], ends]).astype(int)
        k = ends[:, None] - np.arange(RUN - 1, -1, -1)[None]
        return np.repeat(clips, RUN), k.reshape(-1)


def logits(members, e):
    """Each member's logits of runs [B*16, 96] -> list of [B, terms]."""
    x = e.reshape(-1, RUN, DIM)
    return [m(x) for m in members]


def kd_loss(s_logits, t_logits):
    loss = 0
    for s, t in zip(s_logits, t_logits):
        pt = torch.sigmoid(t / T)
        loss = loss + F.binary_cross_entropy_with_logits(s / T, pt) * T * T
    return loss / len(s_logits)


def held_clips(data, max_clips, seed=1):
    rng = np.random.default_rng(seed)
    return data.held_ids if len(data.held_ids) <= max_clips else rng.choice(data.held_ids, max_clips, replace=False)


@torch.no_grad()
def evaluate(model, members, data, max_clips=400, seed=1, given=None):
    """Held-out clips: embedding cosine and MSE per window, and the heads' scores on every run.
    `given`: the student's embeddings computed elsewhere (onnxruntime) of the windows dump_heldout wrote."""
    if model is not None:
        model.eval()
    ids = held_clips(data, max_clips, seed)
    init_s = model(data.ones[None])[0] if given is None else given[0]
    at = 1
    cos, mse, smse, sc_t, sc_s = [], [], [], [], []
    for c in ids:
        n = int(data.count[c])
        x, t, _ = data.windows(np.full(n, c), np.arange(1, n + 1))
        if given is None:
            s = model(x)
        else:
            s = given[at:at + n]
            at += n
        cos.append(F.cosine_similarity(s, t, dim=1))
        mse.append(((s - t) ** 2).mean(1))
        smse.append((((s - t) / data.std) ** 2).mean(1))
        # runs ending at every hop, padded with each model's initial embedding
        tp = torch.cat([data.init[None].expand(RUN - 1, DIM), t])
        sp = torch.cat([init_s[None].expand(RUN - 1, DIM), s])
        idx = torch.arange(n)[:, None] + torch.arange(RUN)[None]
        st = torch.stack([torch.sigmoid(z) for z in logits(members, tp[idx].reshape(-1, DIM))]).mean(0)
        ss = torch.stack([torch.sigmoid(z) for z in logits(members, sp[idx].reshape(-1, DIM))]).mean(0)
        sc_t.append(st)
        sc_s.append(ss)
    cos, mse, smse = torch.cat(cos), torch.cat(mse), torch.cat(smse)
    st, ss = torch.cat(sc_t), torch.cat(sc_s)
    top_t, top_s = st.max(1), ss.max(1)
    hot = top_t.values > 0.5
    res = {
        'clips': len(ids), 'windows': len(cos),
        'cosine_mean': cos.mean().item(), 'cosine_p05': cos.quantile(0.05).item(),
        'mse': mse.mean().item(), 'mse_scaled': smse.mean().item(),
        'init_cosine': F.cosine_similarity(init_s, data.init, dim=0).item(),
        'score_abs_diff_mean': (st - ss).abs().mean().item(),
        'max_score_abs_diff_mean': (top_t.values - top_s.values).abs().mean().item(),
        'teacher_hot_windows': int(hot.sum()),
        'top_term_agree_when_teacher_gt_0.5': (top_t.indices[hot] == top_s.indices[hot]).float().mean().item() if hot.any() else None,
    }
    for thr in (0.5, 0.99):
        a, b = st >= thr, ss >= thr
        res[f'decisions@{thr}'] = {'teacher_pos': int(a.sum()), 'student_pos': int(b.sum()), 'both': int((a & b).sum()),
                                   'recall_of_teacher': ((a & b).sum() / a.sum().clamp_min(1)).item()}
    if model is not None:
        model.train()
    return res


def dump_heldout(a):
    """The held-out windows evaluate() scores (a window of ones first), for onnxruntime: OUT/heldout.f32 [n, 76, 32]."""
    data = Data(a.data, a.init)
    xs = [data.ones[None]]
    for c in held_clips(data, a.eval_clips):
        n = int(data.count[c])
        xs.append(data.windows(np.full(n, c), np.arange(1, n + 1))[0])
    x = torch.cat(xs)
    x.numpy().astype('<f4').tofile(os.path.join(a.out, 'heldout.f32'))
    print(f'{len(x)} windows')


def score(a):
    """evaluate() on embeddings onnxruntime made of heldout.f32 (run_onnx.mjs)."""
    torch.set_num_threads(a.threads)
    data = Data(a.data, a.init)
    given = torch.from_numpy(np.fromfile(a.embeddings, dtype=np.float32).reshape(-1, DIM))
    res = evaluate(None, load_heads(a.heads), data, max_clips=a.eval_clips, given=given)
    print(json.dumps(res, indent=1))
    if a.json:
        json.dump(res, open(a.json, 'w'), indent=1)


def train(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    os.makedirs(a.out, exist_ok=True)
    data = Data(a.data, a.init)
    members = load_heads(a.heads)
    model = Student()
    if a.resume:
        model.load_state_dict(torch.load(a.resume))
        print(f'resumed from {a.resume}', flush=True)
    params = sum(p.numel() for p in model.parameters())
    print(f'clips {len(data.clips)} (held out {len(data.held_ids)}), windows {len(data.emb)}, student params {params}', flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    budget = a.minutes * 60
    t0 = time.time()
    step = 0
    log = []
    while True:
        el = time.time() - t0
        if el > budget or (a.steps and step >= a.steps):
            break
        frac = el / budget
        lr = a.lr * (step / a.warmup if step < a.warmup else 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g['lr'] = lr
        clip, k = data.runs(rng, a.runs)
        x, t, v = data.windows(clip, k)
        s = model(x)
        # Windows before a clip's start are the student's embedding of a window of ones (x is ones there).
        mse = (((s - t) / data.std) ** 2).mean()
        with torch.no_grad():
            tl = logits(members, t)
        sl = logits(members, s)
        kd = kd_loss(sl, tl)
        loss = (1 - a.alpha) * mse + a.alpha * kd
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % 100 == 0:
            print(f'step {step} {el:.0f} s lr {lr:.2e} loss {loss.item():.4f} mse {mse.item():.4f} kd {kd.item():.4f}', flush=True)
        if step % 1000 == 0 and step:
            torch.save(model.state_dict(), os.path.join(a.out, 'student.pt'))
        step += 1
    torch.save(model.state_dict(), os.path.join(a.out, 'student.pt'))
    res = evaluate(model, members, data, max_clips=a.eval_clips)
    res.update({'steps': step, 'seconds': round(time.time() - t0), 'params': params, 'runs_per_batch': a.runs,
                'alpha': a.alpha, 'T': T, 'lr': a.lr, 'threads': a.threads,
                'resumed_from': a.resume, 'warmup': a.warmup, 'seed': a.seed})
    print(json.dumps(res, indent=1), flush=True)
    json.dump(res, open(os.path.join(a.out, 'eval.json'), 'w'), indent=1)


def export(a):
    model = Student()
    model.load_state_dict(torch.load(a.ckpt))
    model.eval()
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, 'student.onnx')
    torch.onnx.export(model, torch.ones(1, WIN_FRAMES, BINS, 1), path, input_names=['input_1'], output_names=['embedding'],
                      dynamic_axes={'input_1': {0: 'n'}, 'embedding': {0: 'n'}}, opset_version=13)
    print(f'wrote {path}, params {sum(p.numel() for p in model.parameters())}')


# Where heads/run.sh leaves its work ($GEARHEAR_TRAIN_DIR/heads, default ../gearhear-train/heads).
TRAIN_DIR = os.environ.get('GEARHEAR_TRAIN_DIR', os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', '..', '..', 'gearhear-train')))
DEFAULT_INIT = os.path.join(TRAIN_DIR, 'heads', 'init.emb.json')
DEFAULT_MEMBERS = [os.path.join(TRAIN_DIR, 'heads', f'member-{seed}') for seed in (1, 2)]


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    t = sub.add_parser('train')
    t.add_argument('data')
    t.add_argument('out')
    t.add_argument('--heads', nargs='+', default=DEFAULT_MEMBERS)
    t.add_argument('--init', default=DEFAULT_INIT)
    t.add_argument('--minutes', type=float, default=25)
    t.add_argument('--steps', type=int, default=0)
    t.add_argument('--runs', type=int, default=12, help='runs of 16 windows per batch')
    t.add_argument('--alpha', type=float, default=0.7)
    t.add_argument('--lr', type=float, default=3e-3)
    t.add_argument('--threads', type=int, default=2)
    t.add_argument('--seed', type=int, default=1)
    t.add_argument('--resume', default=None, help='start from this state dict (student.pt); the optimizer starts afresh')
    t.add_argument('--warmup', type=int, default=200, help='steps of linear warmup of the learning rate')
    t.add_argument("--eval-clips", type=int, default=400)
    e = sub.add_parser('export')
    e.add_argument('ckpt')
    e.add_argument('out')
    for name in ('dump-heldout', 'score'):
        d = sub.add_parser(name)
        d.add_argument('data')
        d.add_argument('out' if name == 'dump-heldout' else 'embeddings')
        d.add_argument('--init', default=DEFAULT_INIT)
        d.add_argument('--eval-clips', type=int, default=300)
        d.add_argument('--heads', nargs='+', default=DEFAULT_MEMBERS)
        d.add_argument('--threads', type=int, default=1)
        d.add_argument('--json', default=None)
    a = ap.parse_args()
    {'train': train, 'export': export, 'dump-heldout': dump_heldout, 'score': score}[a.cmd](a)


if __name__ == '__main__':
    main()

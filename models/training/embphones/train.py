"""A phone (CTC) head on the speech embedding: the open-vocabulary path that stands on the teacher.

Input: the 96-dim speech embeddings (one per 80 ms, as the daemon's stream makes them, embed.mjs)
of WORK/embphones/speech. Model: input normalisation, causal dilated residual convolutions (so the daemon
streams it exactly, carrying their last inputs from hop to hop as state), and a linear layer giving SUB phone frames per
embedding (SUB = 4: one frame per 20 ms, the phone model's frame rate, so the keyword search is the
same). Trained with CTC on the real transcribed speech; speakers hashed into a held-out tenth give
the validation phone error rate. Writes OUT/model.pt and OUT/log.json.
Usage: train.py WORK/embphones OUT [--sets speech] [--epochs N] [--hidden H] [--seed S]
"""
import argparse
import hashlib
import json
import os
import random
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOKENS = ['<blk>', 'AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'B', 'CH', 'D', 'DH', 'EH', 'ER', 'EY', 'F', 'G', 'HH',
          'IH', 'IY', 'JH', 'K', 'L', 'M', 'N', 'NG', 'OW', 'OY', 'P', 'R', 'S', 'SH', 'T', 'TH', 'UH', 'UW', 'V',
          'W', 'Y', 'Z', 'ZH']
DIM = 96


class PhoneHead(nn.Module):
    """Causal dilated residual convolutions over the embedding sequence. `state` holds each block's
    last (kernel-1)*dilation inputs, so a stream fed hop by hop computes exactly what one call over
    the whole segment does (a fresh segment starts from zeros, as training pads)."""

    def __init__(self, hidden=224, dilations=(1, 2, 4, 8, 2, 1), kernel=3, sub=4, dropout=0.15):
        super().__init__()
        self.sub, self.hidden, self.kernel, self.dilations = sub, hidden, kernel, tuple(dilations)
        self.register_buffer('mean', torch.zeros(DIM))
        self.register_buffer('inv_std', torch.ones(DIM))
        self.inp = nn.Conv1d(DIM, hidden, 1)
        self.convs = nn.ModuleList(nn.Conv1d(hidden, hidden, kernel, dilation=d) for d in dilations)
        self.norms = nn.ModuleList(nn.BatchNorm1d(hidden) for _ in dilations)
        self.drop = nn.Dropout(dropout)
        self.out = nn.Conv1d(hidden, sub * len(TOKENS), 1)

    @property
    def state_width(self):
        return sum((self.kernel - 1) * d for d in self.dilations)

    def initial_state(self, batch):
        return torch.zeros(batch, self.hidden, self.state_width)

    def forward(self, x, state=None):
        """x [B, T, 96] -> log-probs [B, T*sub, tokens], state [B, hidden, state_width]."""
        b, t, _ = x.shape
        if state is None:
            state = self.initial_state(b)
        z = F.relu(self.inp(((x - self.mean) * self.inv_std).transpose(1, 2)))
        new_state, at = [], 0
        for conv, norm, d in zip(self.convs, self.norms, self.dilations):
            w = (self.kernel - 1) * d
            inp = torch.cat([state[:, :, at:at + w], z], 2)
            new_state.append(inp[:, :, inp.shape[2] - w:])
            at += w
            z = z + self.drop(F.relu(norm(conv(inp))))
        logits = self.out(self.drop(z)).transpose(1, 2)
        return F.log_softmax(logits.reshape(b, t * self.sub, len(TOKENS)), -1), torch.cat(new_state, 2)


def held_out(speaker):
    return int(hashlib.sha1(('embphones:' + speaker).encode()).hexdigest(), 16) % 10 == 0


def load(work, sets):
    """The embeddings of `sets` (embed.mjs output) end to end, and their clips with CTC targets."""
    index = {t: i for i, t in enumerate(TOKENS)}
    embs, clips, base = [], [], 0
    for name in sets:
        e = np.fromfile(os.path.join(work, name + '.emb.f32'), dtype=np.float32).reshape(-1, DIM)
        for line in open(os.path.join(work, name + '.emb.jsonl')):
            c = json.loads(line)
            c['target'] = [index[p] for p in c['phones'].split()]
            c['embOffset'] += base
            clips.append(c)
        embs.append(e)
        base += len(e)
    return np.concatenate(embs), clips


def edit_distance(a, b):
    d = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        prev, d[0] = d[0], i
        for j in range(1, len(b) + 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] != b[j - 1]))
    return d[len(b)]


def greedy(lp):
    out, last = [], 0
    for k in lp.argmax(-1).tolist():
        if k != last and k != 0:
            out.append(k)
        last = k
    return out


def batches(clips, max_frames, rng):
    order = sorted(range(len(clips)), key=lambda i: clips[i]['embCount'] + rng.random() * 8)
    out, cur, longest = [], [], 0
    for i in order:
        longest = max(longest, clips[i]['embCount'])
        if cur and longest * (len(cur) + 1) > max_frames:
            out.append(cur)
            cur, longest = [], clips[i]['embCount']
        cur.append(i)
    if cur:
        out.append(cur)
    rng.shuffle(out)
    return out


def collate(emb, clips, ids, rng=None):
    t = max(clips[i]['embCount'] for i in ids)
    x = np.zeros((len(ids), t, DIM), np.float32)
    for b, i in enumerate(ids):
        c = clips[i]
        e = emb[c['embOffset']:c['embOffset'] + c['embCount']]
        if rng is not None and len(e) > 10 and rng.random() < 0.5:  # a time mask
            w = rng.randint(1, 3)
            s = rng.randrange(0, len(e) - w)
            e = e.copy()
            e[s:s + w] = e[max(0, s - 1)]
        x[b, :len(e)] = e
    lens = torch.tensor([clips[i]['embCount'] for i in ids])
    targets = [torch.tensor(clips[i]['target']) for i in ids]
    return torch.from_numpy(x), lens, targets


def evaluate(model, emb, clips, ids):
    model.eval()
    errs = total = 0
    with torch.no_grad():
        for k in range(0, len(ids), 64):
            chunk = ids[k:k + 64]
            x, lens, targets = collate(emb, clips, chunk)
            lp, _ = model(x)
            for b, i in enumerate(chunk):
                hyp = greedy(lp[b, :lens[b] * model.sub])
                errs += edit_distance(hyp, clips[i]['target'])
                total += len(clips[i]['target'])
    model.train()
    return errs / max(1, total)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('work')
    ap.add_argument('out')
    ap.add_argument('--epochs', type=int, default=30)
    ap.add_argument('--hidden', type=int, default=224)
    ap.add_argument('--lr', type=float, default=3e-3)
    ap.add_argument('--max-frames', type=int, default=4000)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--sets', default='speech', help='comma-separated sets of WORK (embed.mjs output)')
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(int(os.environ.get('EMBPHONES_THREADS', '2')))
    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    emb, clips = load(args.work, args.sets.split(','))
    # CTC needs at least as many frames as target tokens plus repeats.
    usable = [i for i, c in enumerate(clips) if c['embCount'] * 4 >= 2 * len(c['target']) + 2]
    # Validation: real speakers only (synthesised speech, speaker 'tts', is all for training).
    real_val = [held_out(clips[i]['speaker']) and clips[i]['speaker'] != 'tts' for i in range(len(clips))]
    train = [i for i in usable if not real_val[i]]
    val = [i for i in usable if real_val[i] and clips[i]['copy'] in (0, 1)]
    print(f'{len(clips)} clips, {len(train)} train, {len(val)} validation (held-out speakers)', flush=True)
    model = PhoneHead(args.hidden)
    tr = np.concatenate([emb[clips[i]['embOffset']:clips[i]['embOffset'] + clips[i]['embCount']] for i in train])
    model.mean.copy_(torch.from_numpy(tr.mean(0)))
    model.inv_std.copy_(torch.from_numpy(1 / (tr.std(0) + 1e-3)))
    del tr
    params = sum(p.numel() for p in model.parameters())
    print(f'{params} parameters', flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=1e-2)
    steps = args.epochs * (len(batches([clips[i] for i in train if clips[i]['copy'] == 0], args.max_frames, random.Random(0))) + 2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps, pct_start=0.1)
    ctc = nn.CTCLoss(blank=0, zero_infinity=True)
    log, best = [], (1e9, -1)
    t0 = time.time()
    # An epoch: one version (as recorded, noisy, speed-perturbed) of every utterance, drawn at random.
    by_utt = {}
    for i in train:
        by_utt.setdefault(clips[i]['path'], []).append(i)
    for epoch in range(args.epochs):
        total, n = 0.0, 0
        pick = [rng.choice(v) for v in by_utt.values()]
        for ids in batches([clips[i] for i in pick], args.max_frames, rng):
            ids = [pick[i] for i in ids]
            x, lens, targets = collate(emb, clips, ids, rng)
            x = x + 0.05 * torch.randn_like(x) / model.inv_std
            lp, _ = model(x)
            loss = ctc(lp.transpose(0, 1), torch.cat(targets), lens * model.sub, torch.tensor([len(t) for t in targets]))
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            sched.step()
            total += loss.item()
            n += 1
        per = evaluate(model, emb, clips, val)
        log.append({'epoch': epoch + 1, 'loss': total / n, 'val_per': per, 'seconds': round(time.time() - t0)})
        print(json.dumps(log[-1]), flush=True)
        if per < best[0]:
            best = (per, epoch + 1)
            torch.save({'state': model.state_dict(), 'hidden': args.hidden, 'dilations': model.dilations, 'sub': model.sub,
                        'tokens': TOKENS, 'params': params, 'val_per': per, 'epoch': epoch + 1}, os.path.join(args.out, 'model.pt'))
    json.dump({'log': log, 'best_val_per': best[0], 'best_epoch': best[1], 'params': params, 'args': vars(args)},
              open(os.path.join(args.out, 'log.json'), 'w'), indent=1)
    print(f'best validation PER {best[0]:.3f} at epoch {best[1]}')


if __name__ == '__main__':
    main()

"""Train the teacher (CTC) or the student (distillation: α·T²·KL(teacher_T ‖ student_T) + (1−α)·CTC),
with a wall-clock budget, checkpoints outside the work tree, and resume.

  train.py teacher --minutes 50
  train.py teacher-logits            # soft targets for distillation (computed once)
  train.py student --minutes 30 [--alpha 0.7 --temperature 2 --l1 1e-4] [--init ckpt/student-ctc.pt]
  train.py finetune --minutes 10     # after prune.py: distillation fine-tuning of the slim student
"""
import argparse
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

from common import WORK, ensure_dir
from data import FeatureSet, spec_augment
from model import build, count_params, out_frames

CKPT = os.path.join(WORK, 'ckpt')


def per(model, ds, max_utts=400):
    """Phone error rate by greedy CTC decoding."""
    model.eval()
    errs = total = 0
    ids = ds.ids[:max_utts]
    with torch.no_grad():
        for k in range(0, len(ids), 16):
            x, labels, label_lens, out_lens, _ = ds.collate(ids[k:k + 16])
            pred = model.encode_features(x).argmax(1)
            pos = 0
            for b in range(len(out_lens)):
                seq = pred[b, :out_lens[b]].tolist()
                hyp = [p for j, p in enumerate(seq) if p != 0 and (j == 0 or p != seq[j - 1])]
                ref = labels[pos:pos + label_lens[b]].tolist()
                pos += label_lens[b]
                errs += edit_distance(ref, hyp)
                total += len(ref)
    model.train()
    return errs / max(1, total)


def edit_distance(a, b):
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]


def feature_stats(ds, n=2000):
    ids = ds.ids[:n]
    s = np.zeros(80)
    s2 = np.zeros(80)
    cnt = 0
    for i in ids:
        u = ds.index[i]
        f = np.asarray(ds.feats[u['offset']:u['offset'] + u['frames']], dtype=np.float64)
        s += f.sum(0)
        s2 += (f ** 2).sum(0)
        cnt += len(f)
    mean = s / cnt
    std = np.sqrt(np.maximum(s2 / cnt - mean ** 2, 1e-4))
    return torch.tensor(mean, dtype=torch.float32).unsqueeze(1), torch.tensor(std, dtype=torch.float32).unsqueeze(1)


def save(path, model, opt, state):
    tmp = path + '.tmp'
    torch.save(dict(model=model.state_dict(), layout=model.layout, opt=opt.state_dict() if opt else None, state=state), tmp)
    os.replace(tmp, path)


def load_model(path):
    ck = torch.load(path, map_location='cpu')
    lay = ck['layout']
    from model import AcousticModel
    m = AcousticModel(lay['channels'], lay['hidden'], lay['kernel'], [tuple(b) for b in lay['blocks']], lay.get('hidden_per_block'))
    m.load_state_dict(ck['model'])
    return m, ck


def teacher_logits():
    m, _ = load_model(os.path.join(CKPT, 'teacher.pt'))
    m.eval()
    ds = FeatureSet('train')
    outs, offsets, off = [], [None] * len(ds.index), 0
    with torch.no_grad():
        for k in range(0, len(ds.ids), 32):
            chunk = ds.ids[k:k + 32]
            x, _, _, out_lens, _ = ds.collate(chunk)
            logits = m.encode_features(x).transpose(1, 2)  # [B, T, V]
            for b, i in enumerate(chunk):
                n = int(out_lens[b])
                outs.append(logits[b, :n].numpy().astype(np.float16))
                offsets[i] = (off, n)
                off += n
    np.save(os.path.join(CKPT, 'teacher_logits.npy'), np.concatenate(outs, 0))
    json.dump(offsets, open(os.path.join(CKPT, 'teacher_logits.json'), 'w'))
    print(f'teacher logits: {off} frames', flush=True)


def train(kind, minutes, lr, alpha, temperature, l1, max_frames, init=None, name=None):
    torch.set_num_threads(int(os.environ.get('TRAIN_THREADS', '2')))
    ensure_dir(CKPT)
    name = name or kind
    path = os.path.join(CKPT, name + '.pt')
    distil = kind in ('student', 'finetune') and os.path.exists(os.path.join(CKPT, 'teacher_logits.json'))
    ds = FeatureSet('train', os.path.join(CKPT, 'teacher_logits') if distil else None)
    val = {s: FeatureSet(s) for s in ('val_tts', 'val_real')}
    rng = np.random.default_rng(int(time.time()))
    if os.path.exists(path):
        model, ck = load_model(path)
        state = ck['state']
        print(f'resuming {name} at step {state["step"]}', flush=True)
    elif init:
        model, _ = load_model(init)
        state = dict(step=0, epoch=0, best=None, log=[])
        ck = None
    else:
        model = build('teacher' if kind == 'teacher' else 'student')  # 'student-ctc': student, CTC only
        mean, std = feature_stats(ds)
        model.feat_mean.copy_(mean)
        model.feat_std.copy_(std)
        state = dict(step=0, epoch=0, best=None, log=[])
        ck = None
    print(f'{name}: {count_params(model)} parameters, train {ds.hours():.2f} h', flush=True)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    if ck and ck.get('opt'):
        opt.load_state_dict(ck['opt'])
    ctc = torch.nn.CTCLoss(blank=0, zero_infinity=True)
    deadline = time.time() + minutes * 60
    total_est = state.get('total_steps_est') or None
    model.train()
    last_ckpt = time.time()
    t_start = time.time()
    steps_this_run = 0
    while time.time() < deadline:
        batches = ds.batches(max_frames, rng)
        for bi, ids in enumerate(batches):
            if time.time() >= deadline:
                break
            x, labels, label_lens, out_lens, teacher = ds.collate(ids)
            x = spec_augment(x, rng)
            logits = model.encode_features(x)  # [B, V, T]
            logp = F.log_softmax(logits, 1)
            loss_ctc = ctc(logp.permute(2, 0, 1), labels, out_lens, label_lens)
            loss = loss_ctc
            if distil:
                mask = (torch.arange(logits.shape[2])[None, :] < out_lens[:, None]).float()  # [B, T]
                s_logp = F.log_softmax(logits / temperature, 1)
                t_p = F.softmax(teacher.transpose(1, 2) / temperature, 1)
                kl = (t_p * (torch.log(t_p + 1e-8) - s_logp)).sum(1)  # [B, T]
                loss_kd = (kl * mask).sum() / mask.sum() * temperature ** 2
                loss = alpha * loss_kd + (1 - alpha) * loss_ctc
            if l1:
                loss = loss + l1 * sum(b.bn1.weight.abs().sum() for b in model.blocks)
            # Warm-up then cosine decay over the wall-clock budget.
            frac = min(1.0, (time.time() - t_start) / (minutes * 60))
            warm = min(1.0, (steps_this_run + 1) / 200) if state['step'] < 200 else 1.0
            for g in opt.param_groups:
                g['lr'] = lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
            opt.step()
            state['step'] += 1
            steps_this_run += 1
            if state['step'] % 50 == 0:
                print(f'step {state["step"]} epoch {state["epoch"]} batch {bi}/{len(batches)} loss {loss.item():.3f} ctc {loss_ctc.item():.3f} lr {opt.param_groups[0]["lr"]:.2e}', flush=True)
            if time.time() - last_ckpt > 600:
                save(path, model, opt, state)
                last_ckpt = time.time()
        else:
            state['epoch'] += 1
        pers = {s: per(model, v) for s, v in val.items()}
        state['log'].append(dict(step=state['step'], epoch=state['epoch'], **pers))
        print(f'eval step {state["step"]}: PER {pers}', flush=True)
        save(path, model, opt, state)
    save(path, model, opt, state)
    print(f'done {name}: {state["log"][-1] if state["log"] else state}', flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('kind', choices=['teacher', 'teacher-logits', 'student', 'student-ctc', 'finetune'])
    ap.add_argument('--init', default=None, help='checkpoint to start from (finetune: default student-pruned.pt)')
    ap.add_argument('--minutes', type=float, default=30)
    ap.add_argument('--lr', type=float, default=2e-3)
    ap.add_argument('--alpha', type=float, default=0.7)
    ap.add_argument('--temperature', type=float, default=2.0)
    ap.add_argument('--l1', type=float, default=0.0)
    ap.add_argument('--max-frames', type=int, default=24000)
    args = ap.parse_args()
    if args.kind == 'teacher-logits':
        return teacher_logits()
    if args.kind == 'finetune':
        return train('finetune', args.minutes, args.lr / 4, args.alpha, args.temperature, 0.0, args.max_frames,
                     init=args.init or os.path.join(CKPT, 'student-pruned.pt'), name='student-final')
    train(args.kind, args.minutes, args.lr, args.alpha, args.temperature, args.l1, args.max_frames, init=args.init)


if __name__ == '__main__':
    main()

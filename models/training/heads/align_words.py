"""Where each word of the real transcribed speech ends: CTC forced alignment with the embedding phone model.

The term heads learn every term from synthesised speech, against real speech as negatives, so a
head can learn "synthetic voice" instead of the term. Real words with known end times, as extra
training columns (train_heads.py --real-words), make the shared layers hear real voices as speech.
This script finds those end times in the embedding phone model's training clips
(WORK/embphones/speech-a, speech-b: real speech of the training speakers, three versions each), by
Viterbi alignment of each transcript's phones (CMU dictionary, as prepare.py wrote them) with the
phone model's log-probabilities (models/training/embphones/train.py's PhoneHead, its model.pt).

Writes WORK/embphones/words.jsonl: one line a clip of each set, in the sets' order:
{"set", "row", "words": [[word, end sample], ...]} (end: the last 20 ms frame of the word's last
phone on the best path; null words when the transcript does not align).
Usage: align_words.py WORK MODEL_PT [--sets speech-a,speech-b]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..'))
sys.path.insert(0, os.path.join(here, '..', 'embphones'))
from common import words_to_phones  # noqa: E402
from train import DIM, TOKENS, PhoneHead  # noqa: E402

FRAME = 320  # samples of one phone frame (20 ms)
TOKEN_INDEX = {t: i for i, t in enumerate(TOKENS)}


def viterbi(lp, target):
    """Best CTC path of `target` (token ids) through log-probs lp [T, tokens]: the state per frame
    (state 2j+1 is token j, even states are blanks), or None when the clip is too short."""
    T, L = len(lp), len(target)
    S = 2 * L + 1
    if T < L:
        return None
    ext = np.zeros(S, np.int64)
    ext[1::2] = target
    skip = np.zeros(S, bool)  # s-2 -> s allowed: s is a token differing from the one before
    skip[3::2] = ext[3::2] != ext[1:-2:2]
    em = lp[:, ext]
    delta = np.full(S, -np.inf)
    delta[0], delta[1] = em[0, 0], em[0, 1]
    back = np.zeros((T, S), np.int8)  # 0 stay, 1 from s-1, 2 from s-2
    for t in range(1, T):
        stay = delta
        one = np.concatenate([[-np.inf], delta[:-1]])
        two = np.where(skip, np.concatenate([[-np.inf, -np.inf], delta[:-2]]), -np.inf)
        best = np.maximum(stay, np.maximum(one, two))
        back[t] = np.where(best == stay, 0, np.where(best == one, 1, 2))
        delta = best + em[t]
    s = S - 1 if delta[S - 1] >= delta[S - 2] else S - 2
    if not np.isfinite(delta[s]):
        return None
    path = np.empty(T, np.int64)
    for t in range(T - 1, -1, -1):
        path[t] = s
        s -= back[t, s]
    return path


def word_ends(text, lp):
    """[(word, end sample)] for the words of `text`, or None when it has no pronunciation or does not align."""
    words, target, last = [], [], []
    for w in text.lower().split():
        p = words_to_phones(w)
        if not p:
            return None
        target += [TOKEN_INDEX[x] for x in p]
        words.append(w)
        last.append(len(target) - 1)
    path = viterbi(lp, np.array(target))
    if path is None:
        return None
    out = []
    for w, j in zip(words, last):
        frames = np.nonzero(path == 2 * j + 1)[0]
        if len(frames) == 0:
            return None
        out.append([w, int(frames[-1] + 1) * FRAME])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('work', help='WORK/embphones (embed.mjs output of speech-a, speech-b)')
    ap.add_argument('model', help='model.pt of embphones/train.py')
    ap.add_argument('--sets', default='speech-a,speech-b')
    a = ap.parse_args()
    torch.set_num_threads(int(os.environ.get('ALIGN_THREADS', '2')))
    ck = torch.load(a.model, map_location='cpu')
    model = PhoneHead(ck['hidden'], ck['dilations'], sub=ck['sub'])
    model.load_state_dict(ck['state'])
    model.eval()
    t0, done, failed = time.time(), 0, 0
    with open(os.path.join(a.work, 'words.jsonl'), 'w') as out:
        for name in a.sets.split(','):
            emb = np.fromfile(os.path.join(a.work, name + '.emb.f32'), dtype=np.float32).reshape(-1, DIM)
            for row, line in enumerate(open(os.path.join(a.work, name + '.emb.jsonl'))):
                c = json.loads(line)
                e = emb[c['embOffset']:c['embOffset'] + c['embCount']]
                with torch.no_grad():
                    lp, _ = model(torch.from_numpy(np.ascontiguousarray(e))[None])
                ends = word_ends(c['text'], lp[0].numpy())
                failed += ends is None
                out.write(json.dumps({'set': name, 'row': row, 'words': ends}) + '\n')
                done += 1
                if done % 2000 == 0:
                    print(f'{done} clips, {failed} not aligned, {time.time() - t0:.0f} s', flush=True)
    print(f'aligned {done - failed} of {done} clips in {time.time() - t0:.0f} s')


if __name__ == '__main__':
    main()

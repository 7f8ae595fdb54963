"""The negative embedding bank that `gearhear vocab compile` trains new terms' heads against.

Real speech of training speakers (no benchmark speaker, no vocabulary term), synthesised sentences
and near misses, and machine noise, as embedding sequences (not audio: 96 numbers per 80 ms, uint8
per dimension), so a device can fit a head for a term nobody trained without any training audio.
It depends only on the speech embedding, not on the heads, so it survives a retrain of the heads.
Usage: bank.py WORK/heads OUT_DIR [--hops negspeech=18000,negtts=7000,negnoise=3000] [--seed S]
"""
import argparse
import hashlib
import json
import os

import numpy as np

DIM = 96


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('work')
    ap.add_argument('out')
    ap.add_argument('--hops', default='negspeech=18000,negtts=7000,negnoise=3000')
    ap.add_argument('--seed', type=int, default=7)
    a = ap.parse_args()
    rng = np.random.default_rng(a.seed)
    segments, parts, sources = [], [], {}
    for item in a.hops.split(','):
        name, want = item.split('=')
        rows = [json.loads(line) for line in open(os.path.join(a.work, f'{name}.emb.jsonl'))]
        emb = np.fromfile(os.path.join(a.work, f'{name}.emb.f32'), dtype=np.float32).reshape(-1, DIM)
        got = 0
        for i in rng.permutation(len(rows)):
            if got >= int(want):
                break
            r = rows[i]
            parts.append(emb[r['embOffset']:r['embOffset'] + r['embCount']])
            segments.append(r['embCount'])
            got += r['embCount']
        sources[name] = got
    allv = np.concatenate(parts)
    lo, hi = allv.min(0), allv.max(0)
    scale = np.maximum(hi - lo, 1e-6) / 255
    q = np.clip(np.round((allv - lo) / scale), 0, 255).astype(np.uint8)
    os.makedirs(a.out, exist_ok=True)
    path = os.path.join(a.out, 'negatives.u8')
    q.tofile(path)
    init = json.load(open(os.path.join(a.work, 'init.emb.json')))
    meta = {
        'format': 'gearhear-negative-embeddings/1', 'file': 'negatives.u8', 'sha256': hashlib.sha256(q.tobytes()).hexdigest(),
        'dim': DIM, 'hops': int(len(q)), 'offset': lo.round(6).tolist(), 'scale': scale.round(8).tolist(),
        'segments': segments, 'init': [round(float(x), 6) for x in init],
        'sources': sources,
        'licence': 'MIT (gearhear); embeddings of the CC0 / CC BY 4.0 / CMU AN4 real speech of ../shared/train-speech, Debian TTS and machine noise (see MODEL_CARD.md)',
    }
    json.dump(meta, open(os.path.join(a.out, 'negatives.json'), 'w'))
    err = np.abs(q * scale + lo - allv).max()
    print(f'wrote {path}: {len(q)} hops ({len(q) * 0.08 / 60:.1f} min) in {len(segments)} segments, {q.nbytes / 1e6:.1f} MB, max error {err:.4f}')


if __name__ == '__main__':
    main()

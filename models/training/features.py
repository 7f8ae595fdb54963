"""Precompute log-mel features (the exact front end of the exported graph) for every
training and validation utterance, with waveform augmentation baked in for training.

Writes WORK/feats/<split>.npy (float16 [frames, 80], concatenated) and <split>.json (index).
Splits: train (TTS training voices + real speech of most speakers), val_tts (held-out SLT
voice, clean), val_real (held-out real speakers, clean).
"""
import csv
import json
import os
import sys
from multiprocessing import Pool

import numpy as np
import torch

from augment import Augmenter, load_wav
from common import SHARED, TOKEN_INDEX, WORK, ensure_dir, words_to_phones
from export import BlockLogMel
from model import LogMel, mel_frames

HELD_OUT_EVERY = 20  # every 20th real speaker (sorted) is held out for validation


def utterances():
    items = []
    tts_dir = os.path.join(WORK, 'tts')
    for r in csv.DictReader(open(os.path.join(tts_dir, 'manifest.csv'))):
        split = 'val_tts' if r['split'] == 'val' else 'train'
        items.append(dict(path=os.path.join(tts_dir, r['path']), text=r['text'], split=split, src='tts:' + r['engine']))
    ts = os.path.join(SHARED, 'train-speech')
    rows = list(csv.DictReader(open(os.path.join(ts, 'manifest.csv'), encoding='utf-8')))
    speakers = sorted({r['speaker'] for r in rows})
    held = {s for i, s in enumerate(speakers) if i % HELD_OUT_EVERY == 0}
    for r in rows:
        split = 'val_real' if r['speaker'] in held else 'train'
        items.append(dict(path=os.path.join(ts, r['path']), text=r['text'], split=split,
                          src='real:' + r['path'].split('/')[0]))
    return items


def work(args):
    shard, items, seed = args
    torch.set_num_threads(1)
    babble = [it['path'] for it in items if it['src'].startswith('tts') and it['split'] == 'train'][:400]
    aug = Augmenter(seed, babble)
    fe = BlockLogMel(LogMel()).eval()  # the exported graph's front end, exactly
    out = []
    for it in items:
        phones = words_to_phones(it['text'])
        if not phones:
            continue
        try:
            x = load_wav(it['path'])
        except Exception as e:  # noqa: BLE001 - a broken clip is skipped and counted, not fatal
            print('skip', it['path'], e, file=sys.stderr)
            continue
        if it['split'] == 'train':
            real = it['src'].startswith('real')
            x = aug(x, p_noise=0.45 if real else 0.6, p_reverb=0.15 if real else 0.3)
        if mel_frames(len(x)) < 8:
            continue
        with torch.no_grad():
            f = fe(torch.from_numpy(x).unsqueeze(0))[0].t().numpy().astype(np.float16)  # [T, 80]
        out.append((it, [TOKEN_INDEX[p] for p in phones], f))
    return out


def main():
    items = utterances()
    limit = int(os.environ.get('FEAT_LIMIT', '0'))
    out_dir = ensure_dir(os.path.join(WORK, 'feats'))
    procs = int(os.environ.get('FEAT_PROCS', '2'))
    by_split = {}
    for it in items:
        by_split.setdefault(it['split'], []).append(it)
    for split, its in by_split.items():
        if limit:
            its = its[:limit]
        rng = np.random.default_rng(0)
        rng.shuffle(its)
        shards = [(i, its[i::procs * 8], 1000 + i) for i in range(procs * 8)]
        feats, index, offset = [], [], 0
        with Pool(procs) as pool:
            for res in pool.imap_unordered(work, shards):
                for it, labels, f in res:
                    feats.append(f)
                    index.append(dict(offset=offset, frames=len(f), labels=labels, text=it['text'], src=it['src'],
                                      path=it['path']))
                    offset += len(f)
        arr = np.concatenate(feats, 0)
        np.save(os.path.join(out_dir, split + '.npy'), arr)
        json.dump(index, open(os.path.join(out_dir, split + '.json'), 'w'))
        hours = offset * 0.01 / 3600
        print(f'{split}: {len(index)} utterances, {hours:.2f} h', flush=True)


if __name__ == '__main__':
    main()

"""Audio for the phone head on the speech embedding: the real transcribed speech of the training speakers.

Writes WORK/embphones/speech.i16 (16 kHz int16 clips end to end) and speech.jsonl (one line a clip:
offset, samples, path, text, phones, copy, speaker). Every utterance of ../shared/train-speech whose
speaker is not held out for the benchmark (heads/split.py) and whose transcript says no shipped term
(those are the benchmark's in-sentence set), in EMBPHONES_COPIES versions (default 3): as recorded
(level only), with machine noise at 0-20 dB and some reverb, and speed-perturbed (0.9 or 1.1) with
noise. Phones from the CMU dictionary (the lexicon's), with the training G2P for missing words.
With EMBPHONES_SETS=tts (or speech,tts) also tts.i16/.jsonl: domain sentences (text.py's templates
over the components, conditions and vocabulary), near misses and general sentences, each said by a
random Debian voice (heads/prepare.py's voices), speed-perturbed, with noise and reverb.
"""
import json
import os
import random
import sys
from multiprocessing import Pool

import numpy as np
import torch
import torchaudio

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, '..'))
sys.path.insert(0, os.path.join(here, '..', 'heads'))
from augment import Augmenter, load_wav  # noqa: E402
from common import SHARED, WORK, ensure_dir, words_to_phones  # noqa: E402
from split import says_a_term, shipped_terms, train_speech_rows  # noqa: E402
import prepare as heads_prepare  # noqa: E402
import text as training_text  # noqa: E402

SR = 16000
OUT = ensure_dir(os.path.join(WORK, 'embphones'))
COPIES = int(os.environ.get('EMBPHONES_COPIES', '3'))
_aug = None


def speed(x, factor):
    """Speed perturbation (tempo and pitch together), as Kaldi's 0.9/1.1 recipe."""
    y = torchaudio.functional.resample(torch.from_numpy(x)[None], int(SR * factor), SR)
    return y[0].numpy().astype(np.float32)


def job(args):
    global _aug
    i, path = args
    if _aug is None:
        _aug = Augmenter(1000 + os.getpid())
    x = load_wav(os.path.join(SHARED, 'train-speech', path))
    out = []
    for c in range(COPIES):
        if c == 0:
            y = _aug(x, p_noise=0.0, p_reverb=0.0)
        elif c == 1:
            y = _aug(x, p_noise=0.9, p_reverb=0.25)
        else:
            y = _aug(speed(x, random.Random(i * 7 + c).choice([0.9, 1.1])), p_noise=0.6, p_reverb=0.25)
        out.append((np.clip(y, -1, 1) * 32767).astype('<i2'))
    return i, out


def tts_job(args):
    global _aug
    i, sentence = args
    if _aug is None:
        _aug = Augmenter(2000 + os.getpid())
    rng = random.Random(i)
    x = heads_prepare.tts(sentence, rng)
    if x is None or len(x) < 1600:
        return i, None
    pad = np.zeros(int(SR * rng.uniform(0.1, 0.4)), np.float32)
    y = _aug(np.concatenate([pad, x, pad]), p_noise=0.7, p_reverb=0.3)
    return i, (np.clip(y, -1, 1) * 32767).astype('<i2')


def tts_sentences(n):
    """Domain sentences, near misses and general sentences (transcripts of ../shared/train-speech
    that say no shipped term) with their phones."""
    rng = random.Random(5)
    comps = [c.strip() for c in training_text.COMPONENTS if c.strip()]
    conds = [c.strip() for c in training_text.CONDITIONS if c.strip()]
    acts = [a.strip() for a in training_text.ACTIONS if a.strip()]
    terms = training_text.vocab_terms()
    out = []
    while len(out) < n * 2 // 3:
        t = rng.choice(training_text.TEMPLATES)
        x = rng.choice(terms) if rng.random() < 0.5 else rng.choice(conds)
        out.append(t.format(c=rng.choice(comps), x=x, a=rng.choice(acts), n=rng.choice(training_text.NUMBERS), t=rng.choice(training_text.TIMES)))
    # Not the texts of the benchmark's real sentences that say a shipped term.
    shipped = shipped_terms()
    general = [g for g in training_text.general_sentences() if not says_a_term(g, shipped)]
    rng.shuffle(general)
    out += training_text.NEAR_MISSES + general[:n - len(out)]
    return [(s, p) for s in out if (p := words_to_phones(s))]


def make_tts(n, procs):
    rows = tts_sentences(n)
    offset, kept = 0, 0
    with open(os.path.join(OUT, 'tts.i16'), 'wb') as bin_, open(os.path.join(OUT, 'tts.jsonl'), 'w') as idx, Pool(procs) as pool:
        for i, pcm in pool.imap(tts_job, [(i, s) for i, (s, _) in enumerate(rows)], chunksize=8):
            if pcm is None:
                continue
            s, phones = rows[i]
            bin_.write(pcm.tobytes())
            idx.write(json.dumps({'offset': offset, 'samples': len(pcm), 'path': f'tts/{i}', 'text': s,
                                  'phones': ' '.join(phones), 'copy': 0, 'speaker': 'tts'}) + '\n')
            offset += len(pcm)
            kept += 1
    print(f'tts: {kept} sentences, {offset / SR / 3600:.2f} h')


def main():
    sets = os.environ.get('EMBPHONES_SETS', 'speech').split(',')
    procs = int(os.environ.get('EMBPHONES_PROCS', '2'))
    if 'tts' in sets:
        make_tts(int(os.environ.get('EMBPHONES_TTS', '3600')), procs)
    if 'speech' in sets:
        make_speech(procs)


def make_speech(procs):
    terms = shipped_terms()
    rows = []
    for r in train_speech_rows('train'):
        if says_a_term(r['text'], terms):
            continue
        phones = words_to_phones(r['text'])
        if phones:
            rows.append((r, phones))
    limit = int(os.environ.get('EMBPHONES_LIMIT', '0'))  # smoke runs
    if limit:
        rows = rows[:limit]
    offset = 0
    with open(os.path.join(OUT, 'speech.i16'), 'wb') as bin_, open(os.path.join(OUT, 'speech.jsonl'), 'w') as idx, \
            Pool(procs) as pool:
        for n, (i, clips) in enumerate(pool.imap(job, [(i, r['path']) for i, (r, _) in enumerate(rows)], chunksize=8)):
            r, phones = rows[i]
            for c, pcm in enumerate(clips):
                bin_.write(pcm.tobytes())
                idx.write(json.dumps({'offset': offset, 'samples': len(pcm), 'path': r['path'], 'text': r['text'],
                                      'phones': ' '.join(phones), 'copy': c, 'speaker': r['speaker']}) + '\n')
                offset += len(pcm)
            if n % 500 == 0:
                print(f'{n}/{len(rows)} utterances', flush=True)
    print(f'speech: {len(rows)} utterances x {COPIES} copies, {offset / SR / 3600:.2f} h')


if __name__ == '__main__':
    main()

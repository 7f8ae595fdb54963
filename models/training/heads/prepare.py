"""Audio for the term heads: synthesised positives of every term, real and synthesised negatives.

Writes WORK/heads/<set>.i16 (16 kHz int16 clips end to end) and <set>.jsonl (one line a clip:
offset, samples, and for positives the term and its span in samples). Sets:
- pos: every term (the shipped vocabulary plus the benchmark's terms) spoken by Debian's TTS voices
  (espeak-ng accents x variants, flite, festival), speed/pitch perturbed, alone or between real or
  synthesised speech, with machine noise (train+eval clips and synthetic) at 0-20 dB and reverb;
- negspeech: real speech of the training speakers (../shared/train-speech minus the held-out
  speakers and minus every utterance that says a term), half of it with machine noise;
- negunl: ../shared/unlabelled-speech (no transcripts: masked for the benchmark's common words);
- negtts: synthesised sentences without terms and near misses ("bear in"), same augmentation;
- negnoise: machine noise and silence.
Speaker split: speakers whose hash puts them in the benchmark (split.py) are never used here.
"""
import json
import os
import random
import subprocess
import sys
import tempfile
from multiprocessing import Pool

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from augment import Augmenter, load_wav  # noqa: E402
from common import SHARED, WORK, ensure_dir  # noqa: E402
from synth import ESPEAK_VARIANTS, ESPEAK_VOICES  # noqa: E402
from text import NEAR_MISSES  # noqa: E402
from split import bench_terms, says_a_term, shipped_terms, train_speech_rows  # noqa: E402

SR = 16000
OUT = ensure_dir(os.path.join(WORK, 'heads'))
FLITE = ['kal', 'kal16', 'awb', 'rms', 'slt']
CARRIERS = ['i think the', 'there is a', 'we have a', 'check the', 'it sounds like', 'please look at the',
            'the operator said', 'near the pump', 'on line four', 'again today', 'right now', 'since this morning',
            'in the back', 'can you hear', 'that is the', 'call me about the', 'what about', 'later on']


def voice_spec(rng):
    """A random Debian voice with its settings, so the same voice can say several texts."""
    r = rng.random()
    if r < 0.62:
        v = rng.choice(ESPEAK_VOICES) + ('+' + rng.choice(ESPEAK_VARIANTS) if rng.random() < 0.8 else '')
        return ('espeak', v.rstrip('+'), rng.randint(120, 210), rng.randint(20, 80))
    if r < 0.92:
        return ('flite', rng.choice(FLITE), 0, 0)
    return ('festival', 'kal_diphone', 0, 0)


def synth(spec, text):
    """`text` said by `spec`, float32 16 kHz, untrimmed, or None."""
    engine, voice, rate, pitch = spec
    with tempfile.NamedTemporaryFile(suffix='.wav', delete=False) as f:
        raw = f.name
    if engine == 'espeak':
        cmd = ['espeak-ng', '-v', voice, '-s', str(rate), '-p', str(pitch), '-w', raw, text]
    elif engine == 'flite':
        cmd = ['flite', '-voice', voice, '-t', text, '-o', raw]
    else:
        cmd = ['sh', '-c', f'echo "{text}" | text2wave -eval "(voice_kal_diphone)" -o {raw}']
    try:
        ok = subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0 and os.path.getsize(raw) > 1000
        return load_wav(raw) if ok else None
    finally:
        if os.path.exists(raw):
            os.unlink(raw)


def tts(text, rng):
    """One utterance of `text` by a random Debian voice, as float32 16 kHz, or None."""
    x = synth(voice_spec(rng), text)
    return None if x is None else perturb(trim(x), rng)


def trim(x, floor_db=-40):
    a = np.abs(x)
    thr = a.max() * 10 ** (floor_db / 20)
    idx = np.nonzero(a > thr)[0]
    return x[idx[0]:idx[-1] + 1] if len(idx) else x


def perturb(x, rng):
    """Speed (tempo and pitch together, as a faster or slower talker) by resampling."""
    f = rng.uniform(0.88, 1.15)
    if abs(f - 1) < 0.02:
        return x
    n = int(len(x) / f)
    return np.interp(np.arange(n) * f, np.arange(len(x)), x).astype(np.float32)


class Context:
    """Real speech snippets of training speakers (no terms) to put before and after a term."""

    def __init__(self, paths, rng, n=300):
        self.clips = [load_wav(p) for p in rng.sample(paths, min(n, len(paths)))]

    def snippet(self, rng, seconds, tail):
        c = self.clips[rng.randrange(len(self.clips))]
        n = min(len(c), int(seconds * SR))
        return c[len(c) - n:] if tail else c[:n]


def positive_job(args):
    term, seed, ctx_paths = args
    rng = random.Random(seed)
    global _CTX, _AUG
    if _CTX is None:
        _CTX = Context(ctx_paths, random.Random(1))
        _AUG = Augmenter(seed)
    word = tts(term, rng)
    if word is None:
        return None
    lead_kind, tail_kind = rng.random(), rng.random()
    gap = lambda: np.zeros(int(SR * rng.uniform(0.02, 0.15)), np.float32)  # noqa: E731
    if lead_kind < 0.4:
        lead = np.zeros(int(SR * rng.uniform(0.2, 1.0)), np.float32)
    elif lead_kind < 0.7:
        lead = np.concatenate([_CTX.snippet(rng, rng.uniform(0.5, 1.5), True), gap()])
    else:
        carrier = tts(rng.choice(CARRIERS), rng)
        lead = np.concatenate([np.zeros(int(SR * 0.2), np.float32), carrier if carrier is not None else np.zeros(0, np.float32), gap()])
    if tail_kind < 0.5:
        tail = np.zeros(int(SR * 0.45), np.float32)
    else:
        tail = np.concatenate([gap(), _CTX.snippet(rng, 0.45, False)])
        tail = np.pad(tail, (0, max(0, int(SR * 0.45) - len(tail))))
    # Levels: the term and its context at independent loudness (different talkers, distances).
    wl = 10 ** (rng.uniform(-6, 0) / 20)
    word = word / (np.abs(word).max() + 1e-6) * wl
    if len(lead) and np.abs(lead).max() > 0:
        lead = lead / np.abs(lead).max() * 10 ** (rng.uniform(-10, 0) / 20)
    if np.abs(tail).max() > 0:
        tail = tail / np.abs(tail).max() * 10 ** (rng.uniform(-10, 0) / 20)
    x = np.concatenate([lead, word, tail]).astype(np.float32)
    x = _AUG(x, p_noise=0.75, p_reverb=0.25)
    return term, x, len(lead), len(lead) + len(word)


_CTX = None
_AUG = None


def augmenter(seed):
    """This worker process's Augmenter, made on its first job."""
    global _AUG
    if _AUG is None:
        _AUG = Augmenter(seed)
    return _AUG

PREFIXES = ['i think the', 'there is a', 'we have', 'check the', 'it sounds like', 'the operator reported', 'we found',
            'i can hear', 'looks like', 'please look at the', 'there might be', 'again we have', 'maybe it is the', 'that is']
SUFFIXES = ['on pump four', 'again today', 'near the motor', 'since this morning', 'on line two', 'in the back',
            'so call maintenance', 'and it is getting worse', 'right now', 'at the north end', 'after the restart', 'i guess']


def sentence_job(args):
    """A term inside a sentence said in one go: the term's end is where "prefix term" alone ends."""
    term, seed = args
    rng = random.Random(seed)
    aug = augmenter(seed)
    spec = voice_spec(rng)
    prefix, suffix = rng.choice(PREFIXES), rng.choice(SUFFIXES)
    head = synth(spec, f'{prefix} {term}')
    full = synth(spec, f'{prefix} {term} {suffix}')
    if head is None or full is None:
        return None
    ah = np.abs(head)
    idx = np.nonzero(ah > ah.max() * 0.01)[0]
    end = int(idx[-1]) - int(idx[0])
    x = trim(full, floor_db=-40)
    f = rng.uniform(0.9, 1.12)
    n = int(len(x) / f)
    x = np.interp(np.arange(n) * f, np.arange(len(x)), x).astype(np.float32)
    end = int(end / f)
    pad = int(SR * rng.uniform(0.2, 0.8))
    x = np.concatenate([np.zeros(pad, np.float32), x, np.zeros(int(SR * 0.3), np.float32)])
    x = aug(x, p_noise=0.75, p_reverb=0.25)
    return term, x, pad + end


def negative_tts_job(args):
    text, seed = args
    rng = random.Random(seed)
    aug = augmenter(seed)
    x = tts(text, rng)
    if x is None:
        return None
    x = np.concatenate([np.zeros(int(SR * 0.3), np.float32), x, np.zeros(int(SR * 0.3), np.float32)])
    return aug(x, p_noise=0.6, p_reverb=0.2)


class Writer:
    def __init__(self, name):
        self.bin = open(os.path.join(OUT, name + '.i16'), 'wb')
        self.idx = open(os.path.join(OUT, name + '.jsonl'), 'w')
        self.offset = 0

    def add(self, x, **meta):
        pcm = (np.clip(x, -1, 1) * 32767).astype('<i2')
        self.bin.write(pcm.tobytes())
        self.idx.write(json.dumps({'offset': self.offset, 'samples': len(pcm), **meta}) + '\n')
        self.offset += len(pcm)

    def close(self):
        self.bin.close()
        self.idx.close()


def synthesise(name, job, jobs, procs, add):
    """Runs `job` over `jobs` in `procs` processes; `add(writer, result)` stores each clip made."""
    w = Writer(name)
    with Pool(procs) as pool:
        for n, res in enumerate(pool.imap_unordered(job, jobs, chunksize=16)):
            if res:
                add(w, res)
            if n % 1000 == 0:
                print(f'{name} {n}/{len(jobs)}', flush=True)
    w.close()


def main():
    per_term = int(os.environ.get('HEADS_CLIPS', '60'))
    per_bench_term = int(os.environ.get('HEADS_BENCH_CLIPS', '300'))
    procs = int(os.environ.get('HEADS_PROCS', '2'))
    only = set(os.environ.get('HEADS_SETS', 'pos,possent,negspeech,negunl,negtts,negnoise').split(','))
    terms = shipped_terms()
    bench = bench_terms()
    rows = [r for r in train_speech_rows('train') if not says_a_term(r['text'], terms + bench)]
    limit = int(os.environ.get('HEADS_NEG_LIMIT', '0'))  # smoke runs: at most this many clips per negative set
    if limit:
        rows = rows[:limit]
    paths = [os.path.join(SHARED, 'train-speech', r['path']) for r in rows]
    rng = random.Random(3)
    if 'pos' in only:
        jobs = [(t, rng.randrange(1 << 30), paths) for t in terms for _ in range(per_term)]
        jobs += [(t, rng.randrange(1 << 30), paths) for t in bench for _ in range(per_bench_term)]
        rng.shuffle(jobs)
        synthesise('pos', positive_job, jobs, procs, lambda w, r: w.add(r[1], term=r[0], start=r[2], end=r[3]))
    if 'possent' in only:
        per = int(os.environ.get('HEADS_SENTENCE_CLIPS', '20'))
        jobs = [(t, rng.randrange(1 << 30)) for t in terms + bench for _ in range(per)]
        rng.shuffle(jobs)
        synthesise('possent', sentence_job, jobs, procs, lambda w, r: w.add(r[1], term=r[0], end=r[2]))
    if 'negspeech' in only:
        aug = Augmenter(11)
        w = Writer('negspeech')
        for i, (r, p) in enumerate(zip(rows, paths)):
            x = load_wav(p)
            if i % 2:
                x = aug(x, p_noise=0.8, p_reverb=0.2)
            w.add(x, path=r['path'])
        w.close()
        print(f'negspeech {len(rows)} utterances', flush=True)
    if 'negunl' in only:
        import csv
        base = os.path.join(SHARED, 'unlabelled-speech')
        aug = Augmenter(12)
        w = Writer('negunl')
        for i, r in enumerate(csv.DictReader(open(os.path.join(base, 'manifest.csv')))):
            if limit and i >= limit:
                break
            x = load_wav(os.path.join(base, r['path']))
            if i % 2:
                x = aug(x, p_noise=0.8, p_reverb=0.2)
            w.add(x, path=r['path'])
        w.close()
    if 'negtts' in only:
        texts = [r['text'] for r in rows if len(r['text'].split()) >= 3]
        rng.shuffle(texts)
        jobs = [(t, rng.randrange(1 << 30)) for t in texts[:1500] + NEAR_MISSES * 8 + CARRIERS * 10]
        jobs = jobs[:limit] if limit else jobs
        w = Writer('negtts')
        with Pool(procs) as pool:
            for x in pool.imap_unordered(negative_tts_job, jobs, chunksize=16):
                if x is not None:
                    w.add(x)
        w.close()
    if 'negnoise' in only:
        aug = Augmenter(13)
        w = Writer('negnoise')
        for i in range(limit or 400):
            x = aug.noise(int(SR * 3))
            w.add((x / (np.abs(x).max() + 1e-9) * 10 ** (random.Random(i).uniform(-40, -3) / 20)).astype(np.float32))
        w.add(np.zeros(SR * 10, np.float32))
        w.close()


if __name__ == '__main__':
    main()

"""Text-to-speech from Debian's engines (espeak-ng, flite, festival) with perturbation.

Training voices: espeak-ng (accents x variants, varied rate/pitch), flite kal/kal16/awb/rms,
festival kal_diphone. Held out entirely for validation: the SLT speaker (flite `slt`,
festival `us_slt_hts`). Speed, pitch and vocal-tract-length (sox speed+tempo) perturbation.
Writes WORK/tts/*.wav (16 kHz mono) and WORK/tts/manifest.csv.
"""
import csv
import os
import random
import subprocess
import sys
import tempfile
from multiprocessing import Pool

from common import WORK, ensure_dir

ESPEAK_VOICES = ['en-us', 'en-gb', 'en-gb-scotland', 'en-gb-x-gbclan', 'en-gb-x-rp', 'en-gb-x-gbcwmd',
                 'en-029', 'en-us-nyc']
ESPEAK_VARIANTS = ['', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6', 'm7', 'f1', 'f2', 'f3', 'f4', 'f5', 'klatt',
                   'klatt2', 'klatt3', 'klatt4', 'Andy', 'Annie', 'Denis', 'Gene', 'Lee', 'Mike', 'Tweaky',
                   'adam', 'anika', 'aunty', 'belinda', 'benjamin', 'caleb', 'david', 'ed', 'edward',
                   'grandma', 'grandpa', 'iven', 'john', 'linda', 'max', 'michel', 'norbert', 'paul',
                   'quincy', 'rob', 'robert', 'shelby', 'steph', 'travis', 'victor', 'zac']
FLITE_TRAIN = ['kal', 'kal16', 'awb', 'rms']
HELD_OUT = ('flite:slt', 'festival:us_slt_hts')


def tts(engine, voice, text, out_raw, rng):
    if engine == 'espeak':
        v = voice + (('+' + rng.choice(ESPEAK_VARIANTS)) if rng.random() < 0.8 else '')
        cmd = ['espeak-ng', '-v', v.rstrip('+'), '-s', str(rng.randint(120, 200)), '-p', str(rng.randint(25, 75)),
               '-w', out_raw, text]
        return subprocess.run(cmd, capture_output=True).returncode == 0, v
    if engine == 'flite':
        return subprocess.run(['flite', '-voice', voice, '-t', text, '-o', out_raw], capture_output=True).returncode == 0, voice
    fest_voice = {'kal_diphone': 'voice_kal_diphone', 'us_slt_hts': 'voice_cmu_us_slt_arctic_hts'}[voice]
    with tempfile.NamedTemporaryFile('w', suffix='.txt', delete=False) as f:
        f.write(text)
    try:
        r = subprocess.run(['text2wave', '-eval', f'({fest_voice})', f.name, '-o', out_raw], capture_output=True)
    finally:
        os.unlink(f.name)
    return r.returncode == 0, voice


def job(args):
    uid, text, engine, voice, perturb, out_dir, seed = args
    rng = random.Random(seed)
    out = os.path.join(out_dir, uid + '.wav')
    if os.path.exists(out):
        return uid, text, engine, voice, out
    raw = out + '.raw.wav'
    ok, used_voice = tts(engine, voice, text, raw, rng)
    if not ok or not os.path.exists(raw):
        return None
    effects = []
    if perturb:
        r = rng.random()
        if r < 0.3:  # vocal-tract-length-like warp: formants and pitch move, duration kept
            f = rng.uniform(0.88, 1.12)
            effects += ['speed', f'{f:.3f}', 'tempo', f'{1 / f:.3f}']
        elif r < 0.55:
            effects += ['tempo', f'{rng.uniform(0.85, 1.15):.3f}']
        elif r < 0.7:
            effects += ['pitch', str(rng.randint(-300, 300))]
    effects += ['pad', f'{rng.uniform(0.05, 0.4):.2f}', f'{rng.uniform(0.1, 0.4):.2f}']
    r = subprocess.run(['sox', raw, '-r', '16000', '-c', '1', '-b', '16', out, 'gain', '-n', f'-{rng.randint(1, 12)}'] + effects,
                       capture_output=True)
    os.unlink(raw)
    if r.returncode != 0:
        return None
    return uid, text, engine, used_voice, out


def plan(seed=7):
    rng = random.Random(seed)
    tdir = os.path.join(WORK, 'text')
    domain = open(os.path.join(tdir, 'domain.txt')).read().split('\n')
    general = open(os.path.join(tdir, 'general.txt')).read().split('\n')
    near = open(os.path.join(tdir, 'nearmiss.txt')).read().split('\n')
    domain, general, near = [d for d in domain if d], [g for g in general if g], [n for n in near if n]
    jobs = []
    train_text = domain[:3600] + general[:1300] + near * 3
    for i, text in enumerate(train_text):
        r = rng.random()
        if r < 0.6:
            engine, voice = 'espeak', rng.choice(ESPEAK_VOICES)
        elif r < 0.9:
            engine, voice = 'flite', rng.choice(FLITE_TRAIN)
        else:
            engine, voice = 'festival', 'kal_diphone'
        jobs.append((f'tr{i:05d}', text, engine, voice, True, rng.randrange(1 << 30)))
    # Held-out voice (SLT) for validation: domain sentences, general sentences, near misses.
    val_text = domain[3600:3900] + general[1300:1400] + near
    for i, text in enumerate(val_text):
        engine, voice = ('flite', 'slt') if i % 4 else ('festival', 'us_slt_hts')
        jobs.append((f'va{i:05d}', text, engine, voice, False, rng.randrange(1 << 30)))
    return jobs


def main():
    out_dir = ensure_dir(os.path.join(WORK, 'tts'))
    jobs = [j[:5] + (out_dir, j[5]) for j in plan()]
    limit = int(os.environ.get('SYNTH_LIMIT', '0'))
    if limit:
        jobs = jobs[:limit] + [j for j in jobs if j[0].startswith('va')][:limit // 4]
    rows = []
    with Pool(int(os.environ.get('SYNTH_PROCS', '2'))) as pool:
        for n, res in enumerate(pool.imap(job, jobs, chunksize=8)):
            if res:
                rows.append(res)
            if n % 500 == 0:
                print(f'synth {n}/{len(jobs)}', flush=True)
    with open(os.path.join(out_dir, 'manifest.csv'), 'w', newline='') as f:
        w = csv.writer(f)
        w.writerow(['path', 'text', 'engine', 'voice', 'split'])
        for uid, text, engine, voice, path in rows:
            split = 'val' if f'{engine}:{voice}' in HELD_OUT else 'train'
            w.writerow([os.path.relpath(path, out_dir), text, engine, voice, split])
    print(f'synthesised {len(rows)}/{len(jobs)}', file=sys.stderr)


if __name__ == '__main__':
    main()

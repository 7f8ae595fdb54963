"""Waveform augmentation: machine noise (synthetic hum, broadband, knocks; real noise clips
marked train+eval; TTS babble) at 0-20 dB SNR, synthetic reverberation, gain."""
import csv
import os

import numpy as np
import scipy.signal as ss
import torchaudio

from common import SHARED, SAMPLE_RATE

SR = SAMPLE_RATE


def load_wav(path):
    w, sr = torchaudio.load(path)
    if sr != SR:
        w = torchaudio.functional.resample(w, sr, SR)
    return w.mean(0).numpy().astype(np.float32)


def real_noise_clips():
    """Noise clips from ../shared/data that may be trained on (use == train+eval)."""
    base = os.path.join(SHARED, 'data')
    clips = []
    for r in csv.DictReader(open(os.path.join(base, 'manifest.csv'), encoding='utf-8')):
        if r['kind'] == 'noise' and r['use'] == 'train+eval':
            clips.append(load_wav(os.path.join(base, r['path'])))
    return clips


def hum(n, rng):
    t = np.arange(n) / SR
    f0 = rng.choice([50.0, 60.0, 100.0, 120.0]) * rng.uniform(0.98, 1.02)
    x = np.zeros(n, np.float32)
    for h in range(1, rng.integers(3, 12)):
        x += rng.uniform(0.05, 1.0) / h * np.sin(2 * np.pi * f0 * h * t + rng.uniform(0, 6.28))
    return x


def broadband(n, rng):
    w = rng.standard_normal(n).astype(np.float32)
    kind = rng.integers(0, 3)
    if kind == 0:  # brownish rumble
        b, a = ss.butter(2, rng.uniform(150, 800) / (SR / 2), 'low')
    elif kind == 1:  # hiss / air
        b, a = ss.butter(2, rng.uniform(1500, 5000) / (SR / 2), 'high')
    else:  # band of a fan or gear mesh
        lo = rng.uniform(200, 2000)
        b, a = ss.butter(2, [lo / (SR / 2), min(0.95, lo * rng.uniform(1.3, 3) / (SR / 2))], 'band')
    return ss.lfilter(b, a, w).astype(np.float32)


def knocks(n, rng):
    x = np.zeros(n, np.float32)
    period = int(SR * rng.uniform(0.08, 0.8))
    f = rng.uniform(300, 3000)
    burst_len = int(SR * 0.03)
    tb = np.arange(burst_len) / SR
    burst = (np.sin(2 * np.pi * f * tb) * np.exp(-tb * rng.uniform(80, 300))).astype(np.float32)
    for start in range(int(rng.integers(0, period)), n - burst_len, period):
        x[start:start + burst_len] += burst * rng.uniform(0.5, 1.0)
    return x + 0.05 * broadband(n, rng)


def tile(clip, n, rng):
    if len(clip) >= n:
        s = int(rng.integers(0, len(clip) - n + 1))
        return clip[s:s + n]
    reps = n // len(clip) + 1
    return np.tile(clip, reps)[:n]


def reverb(x, rng):
    rt60 = rng.uniform(0.15, 0.7)
    n = int(SR * rt60)
    t = np.arange(n) / SR
    rir = rng.standard_normal(n).astype(np.float32) * np.exp(-6.9 * t / rt60).astype(np.float32)
    rir[0] = 1.0 / rng.uniform(0.2, 1.0)  # direct path vs reverberant energy
    y = ss.fftconvolve(x, rir)[:len(x)].astype(np.float32)
    return y * (np.abs(x).max() + 1e-6) / (np.abs(y).max() + 1e-6)


class Augmenter:
    def __init__(self, seed, babble_pool=None):
        self.rng = np.random.default_rng(seed)
        self.real = real_noise_clips()
        self.babble_pool = babble_pool or []

    def noise(self, n):
        rng = self.rng
        r = rng.random()
        if r < 0.35 and self.real:
            return tile(self.real[int(rng.integers(0, len(self.real)))], n, rng)
        if r < 0.5:
            return hum(n, rng) + 0.1 * broadband(n, rng)
        if r < 0.7:
            return broadband(n, rng)
        if r < 0.85:
            return knocks(n, rng)
        if self.babble_pool:
            x = np.zeros(n, np.float32)
            for _ in range(3):
                x += tile(load_wav(self.babble_pool[int(rng.integers(0, len(self.babble_pool)))]), n, rng)
            return x
        return broadband(n, rng)

    def __call__(self, x, p_noise, p_reverb):
        rng = self.rng
        if rng.random() < p_reverb:
            x = reverb(x, rng)
        if rng.random() < p_noise:
            nz = self.noise(len(x))
            snr = rng.uniform(0, 20)
            ps = np.mean(x ** 2) + 1e-10
            pn = np.mean(nz ** 2) + 1e-10
            x = x + nz * np.sqrt(ps / (pn * 10 ** (snr / 10)))
        peak = np.abs(x).max() + 1e-6
        target = 10 ** (rng.uniform(-30, -1) / 20)  # level from quiet to near full scale
        return (x * target / peak).astype(np.float32)

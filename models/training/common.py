"""Shared paths, phone set and pronunciation lookup for the gearhear training pipeline."""
import os
import re
import subprocess
from functools import lru_cache

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, '..', '..'))
SHARED = os.path.abspath(os.path.join(REPO, '..', 'shared'))
# Work outside the git tree: audio, features and checkpoints never get committed.
WORK = os.environ.get('GEARHEAR_TRAIN_DIR', os.path.abspath(os.path.join(REPO, '..', 'gearhear-train')))
CMUDICT = os.environ.get('GEARHEAR_CMUDICT', '/usr/share/pocketsphinx/model/en-us/cmudict-en-us.dict')
SAMPLE_RATE = 16000

PHONES = ['AA', 'AE', 'AH', 'AO', 'AW', 'AY', 'B', 'CH', 'D', 'DH', 'EH', 'ER', 'EY', 'F', 'G', 'HH',
          'IH', 'IY', 'JH', 'K', 'L', 'M', 'N', 'NG', 'OW', 'OY', 'P', 'R', 'S', 'SH', 'T', 'TH', 'UH',
          'UW', 'V', 'W', 'Y', 'Z', 'ZH']
TOKENS = ['<blk>'] + PHONES
TOKEN_INDEX = {t: i for i, t in enumerate(TOKENS)}

# flite's phone names (lower-case ARPAbet, 'ax' for schwa, 'pau' for pause).
FLITE_MAP = {'ax': 'AH', 'pau': None}


def ensure_dir(p):
    os.makedirs(p, exist_ok=True)
    return p


@lru_cache(maxsize=1)
def cmudict():
    """word -> first pronunciation (list of phones, stress removed)."""
    d = {}
    with open(CMUDICT, encoding='utf-8', errors='replace') as f:
        for line in f:
            parts = line.strip().split()
            if len(parts) < 2:
                continue
            word = re.sub(r'\(\d+\)$', '', parts[0]).lower()
            if word in d:
                continue
            d[word] = [re.sub(r'\d', '', p).upper() for p in parts[1:]]
    return d


_g2p_cache = {}


def g2p(word):
    """Grapheme-to-phoneme fallback through flite's lexicon + letter-to-sound rules."""
    if word in _g2p_cache:
        return _g2p_cache[word]
    out = subprocess.run(['flite', '-t', word, '-ps', '-o', 'none'], capture_output=True, text=True).stdout
    phones = []
    for p in out.split():
        p = FLITE_MAP.get(p, p.upper())
        if p and p in TOKEN_INDEX:
            phones.append(p)
    _g2p_cache[word] = phones
    return phones


def words_to_phones(text, allow_g2p=True):
    """Sentence -> phone list; None if a word has no pronunciation."""
    d = cmudict()
    phones = []
    for w in text.lower().split():
        w = w.strip(".,;:!?\"()")
        if not w:
            continue
        p = d.get(w)
        if p is None and "'" in w:
            p = d.get(w.replace("'", ''))
        if p is None and allow_g2p and re.fullmatch(r"[a-z']+", w):
            p = g2p(w)
        if not p:
            return None
        phones.extend(p)
    return phones

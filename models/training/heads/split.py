"""Which terms and which real speech each part of the term-head pipeline may use.

The benchmark (bench/real-speech) holds out whole speakers of ../shared/train-speech: a speaker is
held out when the first hex digit of md5(speaker) is below 5 (about 30 % of the audio). Training
never sees them. Utterances that say any term (shipped or benchmark) are kept out of negatives.
"""
import csv
import hashlib
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
from common import REPO, SHARED  # noqa: E402
from text import vocab_terms  # noqa: E402

BENCH_TERMS_FILE = os.path.join(REPO, 'bench', 'real-speech', 'terms.txt')


def shipped_terms():
    return vocab_terms()


def bench_terms():
    return vocab_terms(BENCH_TERMS_FILE)


def is_bench_speaker(speaker):
    return int(hashlib.md5(speaker.encode()).hexdigest()[0], 16) < 5


def train_speech_rows(part):
    """Rows of ../shared/train-speech/manifest.csv for 'train' or 'bench' speakers."""
    rows = csv.DictReader(open(os.path.join(SHARED, 'train-speech', 'manifest.csv'), encoding='utf-8'))
    want = part == 'bench'
    return [r for r in rows if is_bench_speaker(r['speaker']) == want]


def says_a_term(text, terms):
    padded = ' ' + re.sub(r'\s+', ' ', text.lower()) + ' '
    return any(' ' + t + ' ' in padded for t in terms)

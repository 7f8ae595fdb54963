"""Synthesised clips of the prototype matcher's real words (proto-words.json, proto_words.py): each
word said by PROTO_CLIPS (default 16) random Debian voices, alone or after real or synthesised
speech, with the same perturbation, noise and reverb as the term positives (prepare.py's
positive_job). Writes WORK/heads/protopos.i16 and .jsonl (term, start, end as for pos).
"""
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from prepare import OUT, positive_job, synthesise  # noqa: E402
from split import bench_terms, says_a_term, shipped_terms, train_speech_rows  # noqa: E402
from common import SHARED  # noqa: E402


def main():
    per = int(os.environ.get('PROTO_CLIPS', '16'))
    procs = int(os.environ.get('HEADS_PROCS', '2'))
    words = json.load(open(os.path.join(OUT, 'proto-words.json')))
    rows = [r for r in train_speech_rows('train') if not says_a_term(r['text'], shipped_terms() + bench_terms())]
    paths = [os.path.join(SHARED, 'train-speech', r['path']) for r in rows]
    rng = random.Random(7)
    jobs = [(w, rng.randrange(1 << 30), paths) for w in words for _ in range(per)]
    rng.shuffle(jobs)
    synthesise('protopos', positive_job, jobs, procs, lambda w, r: w.add(r[1], term=r[0], start=r[2], end=r[3]))


if __name__ == '__main__':
    main()

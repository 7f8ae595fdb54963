"""Real words for the prototype matcher (proto_train.py): the words of the aligned real training
speech (align_words.py's WORK/embphones/words.jsonl) said in at least MIN distinct utterances, of 3
letters or more, and not starting with any word of a shipped or benchmark term ("trees" is out
because of "tree"), so neither benchmark is ever learnt from.

Usage: proto_words.py WORK [--min 5] [--max 700]   ->  WORK/heads/proto-words.json
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from split import bench_terms, shipped_terms  # noqa: E402


def choose(words_jsonl, utterance_of, min_utts, most):
    banned = {w for t in shipped_terms() + bench_terms() for w in t.split()}
    utts = {}
    for line in open(words_jsonl):
        r = json.loads(line)
        for w, _ in r['words'] or []:
            utts.setdefault(w, set()).add(utterance_of(r))
    ok = [(len(u), w) for w, u in utts.items()
          if len(w) >= 3 and len(u) >= min_utts and not any(w.startswith(b) for b in banned)]
    return [w for _, w in sorted(ok, reverse=True)][:most]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('work')
    ap.add_argument('--min', type=int, default=5)
    ap.add_argument('--max', type=int, default=700)
    a = ap.parse_args()
    ed = os.path.join(a.work, 'embphones')
    paths = {name: [json.loads(line)['path'] for line in open(os.path.join(ed, f'{name}.jsonl'))] for name in ('speech-a', 'speech-b')}
    words = choose(os.path.join(ed, 'words.jsonl'), lambda r: (r['set'], paths[r['set']][r['row']]), a.min, a.max)
    json.dump(words, open(os.path.join(a.work, 'heads', 'proto-words.json'), 'w'))
    print(f'{len(words)} words: {", ".join(words[:20])} ... {", ".join(words[-10:])}')


if __name__ == '__main__':
    main()

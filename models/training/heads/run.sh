#!/usr/bin/env bash
# Term heads on the speech embedding: synthesise and gather audio, embed it, train, export.
#   models/training/heads/run.sh            the shipped heads (about 1.5 h on two busy cores)
#   models/training/heads/run.sh --smoke    a tiny run that builds and loads a heads model (CI)
# Work goes to $GEARHEAR_TRAIN_DIR/heads (default ../gearhear-train/heads); the model to $HEADS_OUT
# (default models/gearhear-heads). Needs `npm run build` and the Debian packages of .ci/run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
PY=/usr/bin/python3
steps=${HEADS_STEPS:-3000}
smoke=
if [[ "${1:-}" == "--smoke" ]]; then
  export GEARHEAR_TRAIN_DIR="${GEARHEAR_TRAIN_DIR:-$(mktemp -d)}"
  export HEADS_CLIPS=1 HEADS_BENCH_CLIPS=1 HEADS_SENTENCE_CLIPS=1 HEADS_NEG_LIMIT=12 HEADS_BANK_HOPS=negspeech=40,negtts=20,negnoise=10
  steps=20 smoke=1 HEADS_REAL_MIN_CLIPS=2 HEADS_REAL_WORDS=${HEADS_REAL_WORDS:-50}
  HEADS_OUT="${HEADS_OUT:-$GEARHEAR_TRAIN_DIR/heads-model}"
fi
work="${GEARHEAR_TRAIN_DIR:-$repo/../gearhear-train}/heads"
out="${HEADS_OUT:-$repo/models/gearhear-heads}"
sets=(pos possent negspeech negunl negtts negnoise)
[[ -f "$work/negnoise.jsonl" ]] || (cd "$here" && HEADS_SETS=pos,possent,negspeech,negunl,negtts,negnoise $PY prepare.py)
todo=(); for s in "${sets[@]}"; do [[ -f "$work/$s.emb.jsonl" ]] || todo+=("$s"); done
((${#todo[@]})) && node "$here/embed.mjs" "$work" "${todo[@]}"
# One head per seed (HEADS_SEEDS, default "1 2"), then their mean is the shipped model (ensemble.py),
# then the negative bank that `gearhear vocab compile` fits new terms against (bank.py).
# Real words (train_heads.py --real-words, HEADS_REAL_WORDS columns; 0, the shipped recipe, for none:
# measured no better beyond seed noise, MODEL_CARD.md; the smoke run exercises them): the word ends of
# the embedding phone model's real training speech, found by forced alignment with that model; made
# here when missing (the embedding phone pipeline's data and model, into $GEARHEAR_TRAIN_DIR/embphones).
real=${HEADS_REAL_WORDS:-0}
if (( real > 0 )); then
  ew="$(dirname "$work")/embphones"
  if [[ ! -f "$ew/words.jsonl" ]]; then
    [[ -f "$ew/model/model.pt" ]] || EMBPHONES_OUT="$ew/export" "$here/../embphones/run.sh" ${smoke:+--smoke}
    (cd "$here" && $PY align_words.py "$ew" "$ew/model/model.pt")
  fi
  HEADS_TRAIN_ARGS="--real-words $real --real-words-min-clips ${HEADS_REAL_MIN_CLIPS:-20} ${HEADS_TRAIN_ARGS:-}"
fi
members=()
for seed in ${HEADS_SEEDS:-1 2}; do
  (cd "$here" && $PY train_heads.py "$work" "$work/member-$seed" --steps "$steps" --seed "$seed" ${HEADS_TRAIN_ARGS:-})
  members+=("$work/member-$seed")
done
(cd "$here" && $PY ensemble.py "$out" "${members[@]}" ${HEADS_VERSION:+--version "$HEADS_VERSION"})
(cd "$here" && $PY bank.py "$work" "$out" ${HEADS_BANK_HOPS:+--hops "$HEADS_BANK_HOPS"})
node -e "Promise.all([import('$repo/dist/src/model/term-heads.js'), import('$repo/dist/src/model/negative-bank.js')]).then(async ([{ TermHeads }, { NegativeBank }]) => { const h = await TermHeads.load('$out'); const s = await h.score(new Float32Array(16 * 96), 1); const b = await NegativeBank.load('$out'); console.log('heads load and score:', h.manifest.terms.length, 'terms,', s.length, 'scores; negative bank', b.hops, 'hops'); await h.dispose(); })"

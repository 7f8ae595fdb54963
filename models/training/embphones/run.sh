#!/usr/bin/env bash
# The phone (CTC) head on the speech embedding: gather the real transcribed speech, embed it, train, export.
#   models/training/embphones/run.sh           the shipped model (about 1 h on two cores: prepare 10 min, embed 15 min, train 15-30 min)
#   models/training/embphones/run.sh --smoke   a tiny run that builds and loads a model (CI)
# Work goes to $GEARHEAR_TRAIN_DIR/embphones (default ../gearhear-train/embphones); the model to
# $EMBPHONES_OUT (default models/gearhear-embphones). Needs `npm run build` and the Debian packages of .ci/run.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
PY=/usr/bin/python3
epochs=${EMBPHONES_EPOCHS:-30}
if [[ "${1:-}" == "--smoke" ]]; then
  export GEARHEAR_TRAIN_DIR="${GEARHEAR_TRAIN_DIR:-$(mktemp -d)}" EMBPHONES_LIMIT=24 EMBPHONES_TTS=6 EMBPHONES_WITH_TTS=1
  epochs=2
  EMBPHONES_OUT="${EMBPHONES_OUT:-$GEARHEAR_TRAIN_DIR/embphones-model}"
fi
work="${GEARHEAR_TRAIN_DIR:-$repo/../gearhear-train}/embphones"
out="${EMBPHONES_OUT:-$repo/models/gearhear-embphones}"
[[ -f "$work/speech.jsonl" ]] || (cd "$here" && EMBPHONES_SETS=speech $PY prepare.py)
# EMBPHONES_WITH_TTS=1: synthesised sentences (domain, near misses, general) beside the real speech
# (measured: no gain on real speech, so the shipped model is trained without them; MODEL_CARD.md).
sets=speech-a,speech-b
if [[ "${EMBPHONES_WITH_TTS:-0}" == 1 ]]; then
  [[ -f "$work/tts.jsonl" ]] || (cd "$here" && EMBPHONES_SETS=tts $PY prepare.py)
  sets=$sets,tts
fi
# Two halves embedded side by side (one onnxruntime thread each).
if [[ ! -f "$work/speech-b.emb.jsonl" ]]; then
  n=$(wc -l < "$work/speech.jsonl"); copies=${EMBPHONES_COPIES:-3}; half=$(( n / 2 / copies * copies ))
  head -n "$half" "$work/speech.jsonl" > "$work/speech-a.jsonl"; tail -n +"$((half + 1))" "$work/speech.jsonl" > "$work/speech-b.jsonl"
  ln -sf speech.i16 "$work/speech-a.i16"; ln -sf speech.i16 "$work/speech-b.i16"
  node "$here/../heads/embed.mjs" "$work" speech-a & a=$!
  node "$here/../heads/embed.mjs" "$work" speech-b
  wait $a
fi
[[ $sets != *tts* || -f "$work/tts.emb.jsonl" ]] || node "$here/../heads/embed.mjs" "$work" tts
(cd "$here" && $PY train.py "$work" "$work/model" --sets "$sets" --epochs "$epochs" --lr 3e-3 ${EMBPHONES_TRAIN_ARGS:-})
(cd "$here" && $PY export.py "$work/model/model.pt" "$out" ${EMBPHONES_VERSION:+--version "$EMBPHONES_VERSION"})
node -e "import('$repo/dist/src/model/embedding-phones.js').then(async ({ EmbeddingPhoneModel }) => { const m = await EmbeddingPhoneModel.load({ dir: '$out' }); const s = m.createStream(); const f = await s.accept(new Float32Array(16000)); console.log('embedding phone model loads and runs:', m.id, m.version, f.frames, 'frames for 1 s'); await m.dispose(); })"

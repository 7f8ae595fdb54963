#!/usr/bin/env bash
# Reproduces gearhear's model from nothing: text -> TTS -> features -> teacher -> distilled
# student -> pruning -> fine-tuning -> ONNX fp32 + INT8 -> models/<id>/ (+ model.json).
# Resumable: every stage skips work whose output exists; training stages resume from their
# checkpoint in $GEARHEAR_TRAIN_DIR/ckpt (outside the git tree).
#
#   models/training/run.sh            # full run (hours on two cores; stage budgets below)
#   models/training/run.sh --smoke    # tiny data, one short epoch, export, load in onnxruntime-node
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
PY=${PYTHON:-/usr/bin/python3}
MODEL_ID=${MODEL_ID:-gearhear-kws}
OUT=${OUT:-$REPO/models/$MODEL_ID}
TEACHER_MIN=${TEACHER_MIN:-115}
STUDENT_CTC_MIN=${STUDENT_CTC_MIN:-60}
STUDENT_MIN=${STUDENT_MIN:-35}
FINETUNE_MIN=${FINETUNE_MIN:-12}
KEEP=${KEEP:-0.7}
if [[ "${1:-}" == "--smoke" ]]; then
  export GEARHEAR_TRAIN_DIR=${GEARHEAR_TRAIN_DIR:-$(mktemp -d /tmp/gearhear-smoke.XXXXXX)}
  export SYNTH_LIMIT=24 FEAT_LIMIT=24
  TEACHER_MIN=0.15 STUDENT_CTC_MIN=0.1 STUDENT_MIN=0.15 FINETUNE_MIN=0.1
  OUT="$GEARHEAR_TRAIN_DIR/model"
  MAXF="--max-frames 4000"
fi
export GEARHEAR_TRAIN_DIR=${GEARHEAR_TRAIN_DIR:-$REPO/../gearhear-train}
W="$GEARHEAR_TRAIN_DIR"; C="$W/ckpt"
mkdir -p "$W" "$OUT"
cd "$HERE"
step() { echo "== $(date +%H:%M:%S) $*"; }
[[ -f "$W/text/domain.txt" ]] || { step text; $PY text.py; }
[[ -f "$W/tts/manifest.csv" ]] || { step synth; $PY synth.py; }
[[ -f "$W/feats/val_real.json" ]] || { step features; $PY features.py; }
# STUDENT_MODE=distil (default): teacher, then the student learns from its soft targets.
# STUDENT_MODE=ctc: the student is trained on the labels alone (no teacher); what v0.1 shipped,
# because the teacher needs more hours on two cores than one session has.
if [[ "${STUDENT_MODE:-distil}" == ctc ]]; then
  [[ -f "$C/student-ctc.done" ]] || { step student-ctc; $PY train.py student-ctc --minutes "$STUDENT_MIN" --l1 1e-4 ${MAXF:---max-frames 12000}; touch "$C/student-ctc.done"; }
  [[ -f "$C/student-pruned.pt" ]] || { step prune; $PY prune.py --keep "$KEEP" --from student-ctc.pt; }
else
  [[ -f "$C/teacher.done" ]] || { step teacher; $PY train.py teacher --minutes "$TEACHER_MIN" ${MAXF:---max-frames 12000}; touch "$C/teacher.done"; }
  [[ -f "$C/teacher_logits.json" ]] || { step teacher-logits; $PY train.py teacher-logits; }
  # The student starts from a CTC warm-up, then learns from the teacher's soft targets (as 0.2.0 was made).
  [[ -f "$C/student-ctc.done" ]] || { step student-ctc; $PY train.py student-ctc --minutes "$STUDENT_CTC_MIN" --l1 1e-4 ${MAXF:---max-frames 12000}; touch "$C/student-ctc.done"; }
  [[ -f "$C/student.done" ]] || { step student; $PY train.py student --init "$C/student-ctc.pt" --lr 1e-3 --minutes "$STUDENT_MIN" --l1 1e-4 ${MAXF:---max-frames 12000}; touch "$C/student.done"; }
  [[ -f "$C/student-pruned.pt" ]] || { step prune; $PY prune.py --keep "$KEEP"; }
fi
[[ -f "$C/student-final.done" ]] || { step finetune; $PY train.py finetune --minutes "$FINETUNE_MIN" ${MAXF:---max-frames 12000}; touch "$C/student-final.done"; }
step export
$PY export.py "$C/student-final.pt" "$OUT/model.onnx" 2>/dev/null
$PY stream_export.py "$C/student-final.pt" "$OUT/model.stream.onnx" 2>/dev/null
for graph in model model.stream; do
  $PY quantize.py prepare "$OUT/$graph.onnx" "$W/quant"
  (cd "$REPO" && node models/training/calibrate.mjs "$W/quant")
  $PY quantize.py build "$OUT/$graph.onnx" "$W/quant" "$OUT/$graph.int8.onnx"
done
$PY manifest.py "$OUT" "$C/student-final.pt" --id "$MODEL_ID" --version "${MODEL_VERSION:-0.2.0}"
if [[ -f "$C/teacher.pt" ]]; then
  mkdir -p "$W/teacher-model"
  $PY export.py "$C/teacher.pt" "$W/teacher-model/model.onnx" 2>/dev/null
  $PY manifest.py "$W/teacher-model" "$C/teacher.pt" --id gearhear-kws-teacher
fi
step "done: $OUT"

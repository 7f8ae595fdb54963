#!/bin/sh
# The student embedding end to end (the heads' training data already embedded by heads/run.sh):
#   models/training/student/run.sh [WORK] [MINUTES]
set -e
cd "$(dirname "$0")/../../.."
WORK=${1:-${GEARHEAR_TRAIN_DIR:-../gearhear-train}}
# The Python scripts find the heads members (heads/member-1, -2) and the initial embedding under it.
export GEARHEAR_TRAIN_DIR="$WORK"
MIN=${2:-25}
PY=${PY:-/usr/bin/python3}
S=models/training/student
OUT=models/gearhear-student
mkdir -p "$WORK/student-data" "$WORK/student-run" "$OUT"
[ -f "$WORK/student-data/clips.jsonl" ] || node $S/dump_mel.mjs "$WORK/heads" "$WORK/student-data" 300000
[ -f "$WORK/student-run/student.pt" ] || $PY $S/train_student.py train "$WORK/student-data" "$WORK/student-run" --minutes "$MIN" --eval-clips 300
$S/finish.sh "$WORK"

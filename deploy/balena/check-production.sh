#!/usr/bin/env bash
# Does what the balena image does, without Docker: installs the production file set with
# production dependencies only into a temp folder, reports its size, and runs
# `gearhear detect --json` there on a WAV file, under the image's V8 heap cap.
# Needs a built checkout (npm run build) and an exported model (models/gearhear-kws/).
#
# Usage: deploy/balena/check-production.sh [--keep] [WAV...]
#   WAV      files to run detect on; default: a fault phrase spoken by espeak-ng (or, without
#            espeak-ng, ../shared/data/speech/sentences/whisper/jfk.wav)
#   --keep   keep the temp folder and print where it is
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
heap_mb=160   # as NODE_OPTIONS in Dockerfile.template
keep=no
if [[ "${1:-}" == "--keep" ]]; then keep=yes; shift; fi

work="$(mktemp -d -t gearhear-production.XXXXXX)"
cleanup() { if [[ "$keep" == yes ]]; then echo "kept: $work"; else rm -rf "$work"; fi; }
trap cleanup EXIT
app="$work/app"
failures=0
result() { # result PASS|FAIL message
  echo "$1  $2"
  [[ "$1" == PASS ]] || failures=$((failures + 1))
}

echo "== installing the production file set into $app"
"$repo/deploy/stage-production.sh" --install "$repo" "$app"

echo
echo "== size"
# One du per path: a single du call counts a folder once and skips the ones inside it.
for part in "$app" "$app/node_modules" "$app/node_modules/onnxruntime-node" "$app/dist" "$app/models" "$app/vocab"; do
  du -sh "$part" | awk '{ printf "  %-8s %s\n", $1, $2 }'
done
# Packages the lock file marks "dev": true must not be there.
dev_installed="$(cd "$app" && node -e '
  const fs = require("fs");
  const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
  const dev = Object.entries(lock.packages).filter(([p, v]) => p !== "" && v.dev === true);
  const present = dev.filter(([p]) => fs.existsSync(p)).map(([p]) => p.replace(/^node_modules\//, ""));
  console.log(`${dev.length} ${present.slice(0, 5).join(" ")}`);
')"
dev_count="${dev_installed%% *}"
dev_present="${dev_installed#* }"
if [[ -n "$dev_present" ]]; then result FAIL "dev-only packages were installed: $dev_present"
else result PASS "none of the lock file's $dev_count dev-only packages is installed"; fi

if [[ $# -gt 0 ]]; then
  wavs=("$@")
elif command -v espeak-ng >/dev/null && command -v sox >/dev/null; then
  phrase="there is an oil leak and the bearing is grinding"   # expect: oil leak, bearing, grinding
  espeak-ng -w "$work/spoken.wav" "$phrase"
  sox "$work/spoken.wav" -r 16000 -c 1 -b 16 "$work/sample.wav"
  echo
  echo "sample: espeak-ng \"$phrase\""
  wavs=("$work/sample.wav")
else
  wavs=("$repo/../shared/data/speech/sentences/whisper/jfk.wav")
fi

time_cmd=()
if [[ -x /usr/bin/time ]]; then time_cmd=(/usr/bin/time -f "  wall %es, peak RSS %M KB" -o "$work/time.txt"); fi
for wav in "${wavs[@]}"; do
  wav="$(cd "$(dirname "$wav")" && pwd)/$(basename "$wav")"
  echo
  echo "== gearhear detect --json $wav   (from $app, NODE_OPTIONS=--max-old-space-size=$heap_mb)"
  set +e
  (cd "$app" && NODE_OPTIONS="--max-old-space-size=$heap_mb" "${time_cmd[@]}" \
    node dist/src/cli/main.js detect --json "$wav" >"$work/detect.out" 2>"$work/detect.err")
  status=$?
  set -e
  sed 's/^/  /' "$work/detect.out"
  if [[ -s "$work/detect.err" ]]; then echo "  stderr:"; sed 's/^/    /' "$work/detect.err"; fi
  [[ -f "$work/time.txt" ]] && cat "$work/time.txt"
  # detect --json prints one JSON object per detection (none: no output).
  heard="$(node -e '
    const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n").filter((l) => l.trim());
    const terms = lines.map((l) => { const d = JSON.parse(l); return `${d.term} (${d.confidence})`; });
    console.log(`${lines.length} detection(s)${terms.length ? ": " + terms.join(", ") : ""}`);
  ' "$work/detect.out" 2>/dev/null)" || heard=""
  if [[ $status -ne 0 ]]; then result FAIL "detect exited $status"
  elif [[ -z "$heard" ]]; then result FAIL "detect --json printed lines that are not JSON objects"
  else result PASS "detect ran from the production install: $heard"; fi
done

echo
if [[ $failures -eq 0 ]]; then echo "RESULT: PASS"; else echo "RESULT: FAIL ($failures failed)"; exit 1; fi

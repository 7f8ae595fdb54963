#!/usr/bin/env bash
# Copies gearhear's production file set from a built checkout into DEST, optionally installing
# the production dependencies there. The file set is the package's own "files" list in
# package.json (dist, models/*/model.json, models/*/*.onnx, vocab, schemas), read through
# `npm pack`, plus package-lock.json and .npmrc so that `npm ci` reproduces the locked tree.
# Used by deploy/balena/check-production.sh and deploy/systemd/install.sh.
#
# Usage: deploy/stage-production.sh [--install] REPO DEST
#   --install   also run `npm ci --omit=dev --ignore-scripts` in DEST and trim onnxruntime-node
set -euo pipefail

install=no
if [[ "${1:-}" == "--install" ]]; then install=yes; shift; fi
repo="${1:?usage: stage-production.sh [--install] REPO DEST}"
dest="${2:?usage: stage-production.sh [--install] REPO DEST}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [[ ! -f "$repo/dist/src/cli/main.js" ]]; then
  echo "error: $repo/dist/src/cli/main.js is missing: run 'npm run build' in $repo first." >&2
  exit 1
fi
if ! compgen -G "$repo/models/*/model.json" >/dev/null; then
  echo "error: no models/*/model.json in $repo: export the model (models/gearhear-kws/) first." >&2
  exit 1
fi

pack_dir="$(mktemp -d)"
trap 'rm -rf "$pack_dir"' EXIT
# --ignore-scripts: the "prepare" script would run tsc; dist/ is already built.
tarball="$(cd "$repo" && npm pack --ignore-scripts --silent --pack-destination "$pack_dir" | tail -n 1)"
mkdir -p "$dest"
tar -xzf "$pack_dir/$tarball" -C "$dest" --strip-components=1
cp "$repo/package-lock.json" "$repo/.npmrc" "$dest/"

if [[ "$install" == yes ]]; then
  # --ignore-scripts: the only install script among the production dependencies is
  # onnxruntime-node's, which .npmrc skips anyway (its binaries are in the npm package);
  # without the flag npm would also run the root "prepare" script (tsc, a dev dependency).
  (cd "$dest" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
  sh "$here/trim-onnxruntime.sh" "$dest"
  sh "$here/trim-speech-embedding.sh" "$dest"
fi

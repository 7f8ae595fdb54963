#!/usr/bin/env bash
# Makes a balena project folder for `balena push`: the files Dockerfile.template COPYs (read from
# the template itself), with Dockerfile.template, docker-compose.yml and balena.yml at its root.
# balena builds only from inside the pushed folder, and pushing the checkout itself would upload
# node_modules and the training data.
#
# Usage: deploy/balena/stage.sh DEST        then: balena push <fleet> --source DEST
set -euo pipefail

dest="${1:?usage: deploy/balena/stage.sh DEST (an empty or new folder)}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

mapfile -t sources < <(node "$here/render.mjs" --list-copy-sources)
missing=0
for source in "${sources[@]}"; do
  if [[ ! -e "$repo/$source" ]]; then
    echo "error: Dockerfile.template copies $source, which is missing in $repo." >&2
    missing=1
  fi
done
if [[ "$missing" == 1 ]]; then
  echo "       (the model is exported by models/training into models/gearhear-kws/)" >&2
  exit 1
fi
if [[ -e "$dest" && -n "$(ls -A "$dest")" ]]; then
  echo "error: $dest is not empty; give a new or empty folder." >&2
  exit 1
fi

mkdir -p "$dest"
for source in "${sources[@]}"; do
  parent="$(dirname "${source%/}")"
  mkdir -p "$dest/$parent"
  cp -R "$repo/${source%/}" "$dest/$parent/"
done
cp "$here/Dockerfile.template" "$here/docker-compose.yml" "$here/balena.yml" "$dest/"
echo "staged $(du -sh "$dest" | cut -f1) in $dest"
echo "next:   balena push <fleet> --source $dest"

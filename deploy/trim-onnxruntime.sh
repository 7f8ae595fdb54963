#!/bin/sh
# Removes the onnxruntime-node native binaries for every platform except the one this node runs on.
# onnxruntime-node ships darwin, win32 and linux (x64 + arm64) builds in one npm package (~290 MB);
# the daemon needs exactly one of them (~25 MB on arm64, ~45 MB on x64).
# Usage: deploy/trim-onnxruntime.sh APP_DIR   (APP_DIR holds node_modules/)
set -eu

app_dir="${1:?usage: trim-onnxruntime.sh APP_DIR}"
bin_dir="$app_dir/node_modules/onnxruntime-node/bin/napi-v6"
keep="$(node -p 'process.platform + "/" + process.arch')"

if [ ! -f "$bin_dir/$keep/onnxruntime_binding.node" ]; then
  echo "error: onnxruntime-node has no native binary for $keep in $bin_dir." >&2
  echo "       gearhear needs a 64-bit OS (linux/arm64 or linux/x64); run 'npm ci' in $app_dir first." >&2
  exit 1
fi

for platform_arch in "$bin_dir"/*/*; do
  [ "${platform_arch#"$bin_dir"/}" = "$keep" ] || rm -rf "$platform_arch"
done
find "$bin_dir" -mindepth 1 -maxdepth 1 -type d -empty -exec rmdir {} +

# Load the binding once, so a wrong-architecture or missing shared library fails here, not on the device.
(cd "$app_dir" && node -e "require('onnxruntime-node')") || {
  echo "error: onnxruntime-node's native binding for $keep does not load (see the message above)." >&2
  exit 1
}
echo "onnxruntime-node: kept $keep only"

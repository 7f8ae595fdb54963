#!/usr/bin/env bash
# The test command on a fresh Debian machine (README "Tests"; .ci/run runs this too): installs the
# Debian packages the tests need where they are missing, installs the npm dependencies, runs npm test.
# Needs root or sudo for apt-get, once. `scripts/test.sh --no-install` only checks and runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
# Keep in step with scripts/preflight.mjs, which names what is missing when npm test is run alone.
# Speech synthesis for test audio (espeak-ng, flite, festival voices), sox, a real MQTT broker
# (mosquitto), the CMU dictionary (pocketsphinx-en-us) for vocabulary compilation, arecord
# (alsa-utils), openssl for TLS test certificates, systemd for systemd-analyze verify, qemu-user
# (test/model/int8-cpu.test.ts runs the INT8 models on an emulated CPU without VNNI), and the
# training pipeline's Python packages for its smoke runs (npm run test:training; .ci/run runs them).
PKGS=(espeak-ng flite festival festvox-kallpc16k festvox-us-slt-hts sox libsox-fmt-all mosquitto mosquitto-clients
      pocketsphinx pocketsphinx-en-us alsa-utils openssl systemd qemu-user
      python3-torch python3-torchaudio python3-onnx python3-numpy python3-scipy)
if [[ "${1:-}" != "--no-install" ]]; then
  missing=()
  for p in "${PKGS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
  if ((${#missing[@]})); then
    sudo=""; [[ $(id -u) -eq 0 ]] || sudo="sudo"
    echo "installing Debian packages: ${missing[*]}"
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # mosquitto's package may start a system broker on 1883; the tests start their own on free ports.
  npm ci --no-audit --no-fund
fi
npm test

#!/usr/bin/env bash
# More Debian voices for training and for `gearhear vocab compile` on a workstation (never needed by the
# tests): RHVoice English (alan, bdl, clb, slt: LGPL-2.1+; the package's evgeniy-eng and lyubov voices are
# CC BY-NC-ND and never used, see src/kws/term-synth.ts) and SVOX Pico (Apache-2.0) from Debian's non-free
# component, which this script enables in an apt source file of its own; festival's ked voice (main).
# Run as root on Debian 12 (bookworm).
set -euo pipefail
src=/etc/apt/sources.list.d/gearhear-non-free.sources
if [[ ! -f "$src" ]]; then
  cat > "$src" <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: non-free
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  echo "enabled Debian non-free in $src"
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq rhvoice rhvoice-english libttspico-utils festival festvox-kdlpc16k flite
echo "voices installed: RHVoice-test $(command -v RHVoice-test), pico2wave $(command -v pico2wave), festival ked"

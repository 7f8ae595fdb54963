#!/usr/bin/env bash
# Builds demo/machine-room.wav: speech by a voice the model never trained on (flite's SLT,
# held out of training), with and without vocabulary terms, over synthetic machine noise.
# Everything is synthesised here; nothing from ../shared goes into the repository.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
say() { flite -voice slt -t "$2" -o "$tmp/raw.wav"; sox "$tmp/raw.wav" -r 16000 -c 1 -b 16 "$tmp/$1.wav" gain -n -6 pad 0.3 0.6; }
say a "the pump bearing is overheating"
say b "please check the schedule for tomorrow"
say c "there is an oil leak under the gearbox"
say d "we hear cavitation on the feed pump"
sox -n -r 16000 -c 1 -b 16 "$tmp/gap.wav" trim 0 1.5
sox "$tmp/gap.wav" "$tmp/a.wav" "$tmp/gap.wav" "$tmp/b.wav" "$tmp/gap.wav" "$tmp/c.wav" "$tmp/gap.wav" "$tmp/d.wav" "$tmp/gap.wav" "$tmp/speech.wav"
len=$(soxi -D "$tmp/speech.wav")
# Machine room: 50 Hz mains hum with harmonics plus broadband rumble, about 15 dB under the speech.
sox -n -r 16000 -c 1 -b 16 "$tmp/hum.wav" synth "$len" sine 50 sine 100 sine 150 brownnoise remix - gain -n -30
sox -m "$tmp/speech.wav" "$tmp/hum.wav" -b 16 demo/machine-room.wav
soxi demo/machine-room.wav | grep -E 'Duration|Sample Rate'

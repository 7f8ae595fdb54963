#!/usr/bin/env node
// The stand-in arecord's logic; run through test/fixtures/bin/arecord (CommonJS whatever the package type).
// Stand-in for ALSA's arecord in tests: streams the PCM data of the 16 kHz mono 16-bit WAV in
// $FAKE_ARECORD_WAV to stdout in a loop (as `arecord -t raw -f S16_LE -r 16000 -c 1 -` would).
//   FAKE_ARECORD_LOG         append one JSON line {pid, args} per run (also numbers the runs)
//   FAKE_ARECORD_FAULT       die:<bytes> | stall:<bytes> | device-error
//   FAKE_ARECORD_FAULTY_RUNS the fault applies to runs 1..N only (default: every run)
//   FAKE_ARECORD_CHUNK_BYTES bytes per write (default 3201, odd on purpose)
//   FAKE_ARECORD_INTERVAL_MS pause between writes (default 10)
'use strict';
const fs = require('node:fs');

const args = process.argv.slice(2);
const env = process.env;
let run = 1;
if (env.FAKE_ARECORD_LOG) {
  try { run = fs.readFileSync(env.FAKE_ARECORD_LOG, 'utf8').split('\n').filter(Boolean).length + 1; } catch {}
  fs.appendFileSync(env.FAKE_ARECORD_LOG, JSON.stringify({ pid: process.pid, args }) + '\n');
}
const arg = (flag) => { const i = args.indexOf(flag); return i < 0 ? undefined : args[i + 1]; };
if (arg('-t') !== 'raw' || arg('-f') !== 'S16_LE' || arg('-r') !== '16000' || arg('-c') !== '1') {
  process.stderr.write(`fake arecord: expected -t raw -f S16_LE -r 16000 -c 1, got ${args.join(' ')}\n`);
  process.exit(2);
}
const faulty = run <= Number(env.FAKE_ARECORD_FAULTY_RUNS || Infinity);
const [fault, faultBytesText] = faulty ? (env.FAKE_ARECORD_FAULT ?? '').split(':') : [''];
const faultBytes = Number(faultBytesText ?? 0);

if (fault === 'device-error') {
  process.stderr.write(`ALSA lib pcm.c:2666:(snd_pcm_open_noupdate) Unknown PCM ${arg('-D') ?? 'default'}\n`);
  process.stderr.write('arecord: main:831: audio open error: No such file or directory\n');
  process.exit(1);
}

function pcmOf(wavPath) {
  const wav = fs.readFileSync(wavPath);
  for (let at = 12; at + 8 <= wav.length; ) {
    const id = wav.toString('latin1', at, at + 4);
    const size = wav.readUInt32LE(at + 4);
    if (id === 'data') return wav.subarray(at + 8, at + 8 + size);
    at += 8 + size + (size % 2);
  }
  throw new Error(`no data chunk in ${wavPath}`);
}

const pcm = pcmOf(env.FAKE_ARECORD_WAV);
const chunkBytes = Number(env.FAKE_ARECORD_CHUNK_BYTES ?? 3201);
const intervalMs = Number(env.FAKE_ARECORD_INTERVAL_MS ?? 10);
process.stdout.on('error', () => process.exit(0));
let position = 0;
let sent = 0;
const timer = setInterval(() => {
  let size = chunkBytes;
  if (fault && sent + size > faultBytes) size = faultBytes - sent;
  if (size > 0) {
    const end = Math.min(position + size, pcm.length);
    process.stdout.write(pcm.subarray(position, end));
    sent += end - position;
    position = end >= pcm.length ? 0 : end;
  }
  if (fault && sent >= faultBytes) {
    if (fault === 'die') {
      process.stderr.write('arecord: pcm_read:2221: read error: Input/output error\n');
      process.exit(1);
    }
    if (fault === 'stall') clearInterval(timer), setInterval(() => {}, 1000);
  }
}, intervalMs);

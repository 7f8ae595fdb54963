/** Raw PCM helpers shared by the mic and stdin sources. */

const INT16_SCALE = 1 / 32768;

/**
 * Turns a byte stream of signed 16-bit little-endian samples into floats in [-1, 1).
 * Chunks may split a sample across two reads; the odd byte is carried to the next push().
 */
export class S16leDecoder {
  private carry: number | undefined;

  /** Decodes every whole sample in `chunk` (plus a byte carried from the previous chunk). */
  push(chunk: Uint8Array): Float32Array {
    let bytes = chunk;
    if (this.carry !== undefined) {
      bytes = new Uint8Array(chunk.length + 1);
      bytes[0] = this.carry;
      bytes.set(chunk, 1);
      this.carry = undefined;
    }
    const sampleCount = bytes.length >> 1;
    if (bytes.length % 2 === 1) this.carry = bytes[bytes.length - 1];
    const view = new DataView(bytes.buffer, bytes.byteOffset, sampleCount * 2);
    const samples = new Float32Array(sampleCount);
    for (let i = 0; i < sampleCount; i++) samples[i] = view.getInt16(i * 2, true) * INT16_SCALE;
    return samples;
  }

  /** Forgets a carried byte (a new stream starts, e.g. after a recorder restart). */
  reset(): void {
    this.carry = undefined;
  }

  /** True when half a sample is waiting for its second byte. */
  get hasCarry(): boolean {
    return this.carry !== undefined;
  }
}

/** Clamps samples into [-1, 1] in place (resampling overshoot, hot float WAVs) and returns them. */
export function clampToUnit(samples: Float32Array): Float32Array {
  for (let i = 0; i < samples.length; i++) {
    const s = samples[i]!;
    if (s > 1) samples[i] = 1;
    else if (s < -1) samples[i] = -1;
    else if (Number.isNaN(s)) samples[i] = 0;
  }
  return samples;
}

/**
 * A copy of `x` times `gain`. Float32Array.from(x, fn) would first build a JS array of every sample
 * (the iterator path): garbage of ~8-16 bytes a sample, which grew \`gearhear adapt\`'s peak.
 */
export function scaledCopy(x: ArrayLike<number>, gain: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = x[i]! * gain;
  return out;
}

/** The parts laid end to end (the part itself when there is only one: do not modify the result then). */
export function concatSamples(parts: readonly Float32Array[]): Float32Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

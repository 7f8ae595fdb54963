import t from 'tap';
import { S16leDecoder, clampToUnit } from '../../src/audio/pcm.js';

t.test('S16leDecoder carries an odd byte to the next chunk', async (t) => {
  const decoder = new S16leDecoder();
  // 0x7fff, 0x8000, 0x0001 split as 1 + 4 + 1 bytes.
  t.same([...decoder.push(Uint8Array.of(0xff))], []);
  t.equal(decoder.hasCarry, true);
  t.same([...decoder.push(Uint8Array.of(0x7f, 0x00, 0x80, 0x01))], [32767 / 32768, -1]);
  t.same([...decoder.push(Uint8Array.of(0x00))], [1 / 32768]);
  t.equal(decoder.hasCarry, false);
  decoder.push(Uint8Array.of(0x12));
  decoder.reset();
  t.same([...decoder.push(Uint8Array.of(0x00, 0x40))], [0.5], 'reset() forgets the carried byte');
});

t.test('S16leDecoder reads from a Buffer view with an odd byteOffset', async (t) => {
  const backing = Buffer.from([0xaa, 0x00, 0x40, 0x00, 0xc0]);
  t.same([...new S16leDecoder().push(backing.subarray(1))], [0.5, -0.5]);
});

t.test('clampToUnit bounds overshoot and replaces NaN with 0', async (t) => {
  t.same([...clampToUnit(Float32Array.of(1.5, -2, 0.25, NaN))], [1, -1, 0.25, 0]);
});

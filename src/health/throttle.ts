/**
 * Raspberry Pi throttling flags, from the firmware's sysfs file or `vcgencmd get_throttled`.
 * Absent on other machines: the reader then returns null, never an error.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

export const PI_THROTTLED_SYSFS = '/sys/devices/platform/soc/soc:firmware/get_throttled';

export interface ThrottleState {
  /** The flags as reported, in hex (`0x50005`). */
  raw: string;
  underVoltage: boolean;
  freqCapped: boolean;
  throttled: boolean;
  softTempLimit: boolean;
  underVoltageOccurred: boolean;
  freqCappedOccurred: boolean;
  throttledOccurred: boolean;
  softTempLimitOccurred: boolean;
}

const FLAG_BITS: Array<[Exclude<keyof ThrottleState, 'raw'>, number]> = [
  ['underVoltage', 0],
  ['freqCapped', 1],
  ['throttled', 2],
  ['softTempLimit', 3],
  ['underVoltageOccurred', 16],
  ['freqCappedOccurred', 17],
  ['throttledOccurred', 18],
  ['softTempLimitOccurred', 19],
];

/** Parses `throttled=0x50005` (vcgencmd) or `50005` (sysfs, hex digits). Null when it is neither. */
export function parseThrottled(text: string): ThrottleState | null {
  const m = /^(?:throttled=)?(?:0x)?([0-9a-f]+)$/i.exec(text.trim());
  if (!m) return null;
  const bits = parseInt(m[1]!, 16);
  const state = { raw: `0x${bits.toString(16)}` } as ThrottleState;
  for (const [name, bit] of FLAG_BITS) state[name] = ((bits >>> bit) & 1) === 1;
  return state;
}

export interface ThrottleReaderOptions {
  /** Default PI_THROTTLED_SYSFS. */
  sysfsPath?: string;
  /** Default `vcgencmd` (looked up on PATH). */
  vcgencmd?: string;
  timeoutMs?: number;
}

function runVcgencmd(binary: string, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['get_throttled'], { timeout: timeoutMs }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

/**
 * Returns a reader of the throttling flags: the sysfs file first, then vcgencmd. When neither exists
 * it stops trying (null from then on); a failed or unparsable read gives null for that sample.
 */
export function createThrottleReader(options: ThrottleReaderOptions = {}): () => Promise<ThrottleState | null> {
  const sysfsPath = options.sysfsPath ?? PI_THROTTLED_SYSFS;
  const vcgencmd = options.vcgencmd ?? 'vcgencmd';
  const timeoutMs = options.timeoutMs ?? 2000;
  let sysfsMissing = false;
  let vcgencmdMissing = false;
  return async () => {
    if (!sysfsMissing) {
      try {
        return parseThrottled(await readFile(sysfsPath, 'utf8'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return null;
        sysfsMissing = true;
      }
    }
    if (!vcgencmdMissing) {
      try {
        return parseThrottled(await runVcgencmd(vcgencmd, timeoutMs));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') vcgencmdMissing = true;
      }
    }
    return null;
  };
}

/** Resource use of a process from /proc (Linux): resident memory and CPU seconds. */
import { readFile } from 'node:fs/promises';

export interface ProcSample {
  /** ms since the epoch. */
  at: number;
  rssMb: number;
  /** Peak resident memory so far (VmHWM). */
  hwmMb: number;
  /** User + system CPU seconds so far. */
  cpuSec: number;
}

const CLOCK_TICKS = 100; // USER_HZ on Linux

export async function sampleProc(pid: number): Promise<ProcSample | null> {
  try {
    const [status, stat] = await Promise.all([readFile(`/proc/${pid}/status`, 'utf8'), readFile(`/proc/${pid}/stat`, 'utf8')]);
    const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuTicks = Number(rest[11]) + Number(rest[12]);
    return { at: Date.now(), rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024, cpuSec: cpuTicks / CLOCK_TICKS };
  } catch {
    return null; // the process has exited
  }
}

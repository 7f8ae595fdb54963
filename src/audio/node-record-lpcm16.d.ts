/** Types for the parts of node-record-lpcm16 (v1, untyped CommonJS) that recorder.ts uses. */
declare module 'node-record-lpcm16' {
  import type { ChildProcess } from 'node:child_process';
  import type { Readable } from 'node:stream';

  interface RecordOptions {
    sampleRate?: number;
    channels?: number;
    recorder?: 'arecord' | 'sox' | 'rec';
    audioType?: string;
    device?: string;
  }

  interface Recording {
    /** The spawned recorder; the library attaches no 'error' listener to it. */
    process: ChildProcess;
    /** The recorder's stdout; the library emits a *string* 'error' on it when the recorder exits non-zero. */
    stream(): Readable;
    /** Sends SIGTERM. */
    stop(): void;
  }

  const lpcm16: { record(options: RecordOptions): Recording };
  export default lpcm16;
}

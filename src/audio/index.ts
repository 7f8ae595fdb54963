/** Audio source specs (`mic`, `mic:<alsa device>`, `file:<path>`, `stdin`) and the factory that builds them. */
import { AudioSourceError, type AudioSource } from './types.js';
import { MicSource, type MicSourceOptions } from './mic.js';
import { FileSource, type FileSourceOptions } from './file.js';
import { StdinSource, type StdinSourceOptions } from './stdin.js';

export * from './types.js';
export { MicSource, MIC_DEFAULTS, type MicSourceOptions } from './mic.js';
export { FileSource, readWavFile, decodeWav, DEFAULT_FILE_CHUNK_MS, type FileSourceOptions } from './file.js';
export { StdinSource, type StdinSourceOptions } from './stdin.js';
export { AudioFeed, FEED_DEFAULTS, type AudioFeedOptions, type AudioFeedStats, type AudioSink } from './feed.js';

export type AudioSourceSpec =
  | { kind: 'mic'; device?: string }
  | { kind: 'file'; path: string }
  | { kind: 'stdin' };

const SPEC_HELP = 'use mic, mic:<alsa device> (e.g. mic:plughw:CARD=Device), file:<path.wav> or stdin';

/** Parses a source spec; throws a fatal AudioSourceError naming the spec when it is not one of the forms. */
export function parseAudioSourceSpec(spec: string): AudioSourceSpec {
  const bad = (why: string): AudioSourceError => new AudioSourceError(`invalid audio source "${spec}": ${why}; ${SPEC_HELP}`, spec, true);
  const trimmed = spec.trim();
  if (trimmed === 'mic') return { kind: 'mic' };
  if (trimmed === 'stdin' || trimmed === '-') return { kind: 'stdin' };
  const colon = trimmed.indexOf(':');
  const kind = colon < 0 ? trimmed : trimmed.slice(0, colon);
  const rest = colon < 0 ? '' : trimmed.slice(colon + 1);
  if (kind === 'mic') {
    if (!rest) throw bad('the ALSA device name after "mic:" is empty');
    return { kind: 'mic', device: rest };
  }
  if (kind === 'file') {
    if (!rest) throw bad('the path after "file:" is empty');
    return { kind: 'file', path: rest };
  }
  throw bad(`unknown kind "${kind}"`);
}

/** Options per kind; the spec decides which are used (the device and path come from the spec). */
export interface AudioSourceFactoryOptions {
  mic?: Omit<MicSourceOptions, 'device'>;
  file?: Omit<FileSourceOptions, 'path'>;
  stdin?: StdinSourceOptions;
}

export function createAudioSource(spec: string | AudioSourceSpec, options: AudioSourceFactoryOptions = {}): AudioSource {
  const parsed = typeof spec === 'string' ? parseAudioSourceSpec(spec) : spec;
  switch (parsed.kind) {
    case 'mic':
      return new MicSource({ ...options.mic, device: parsed.device });
    case 'file':
      return new FileSource({ ...options.file, path: parsed.path });
    case 'stdin':
      return new StdinSource(options.stdin);
  }
}

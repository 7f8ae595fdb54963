/**
 * Each command's usage, listing every option, and the one way commands parse their arguments:
 * `--help`/`-h` prints the usage (exit 0); an unknown option or a missing value is a usage error
 * (exit 64, EX_USAGE) that prints the message and the usage on stderr.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** sysexits.h EX_USAGE: the command line is wrong. */
export const EX_USAGE = 64;

const CONFIG_OPTIONS = `  --config FILE         configuration file (default: GEARHEAR_CONFIG, else /etc/gearhear/config.json if it exists)
  --set KEY=VALUE       override one configuration key, e.g. --set mqtt.url=mqtt://broker:1883 (repeatable)`;

export const COMMAND_USAGE = {
  run: `Usage: gearhear run [--config FILE] [--set KEY=VALUE ...]

Runs the daemon: audio source -> voice activity -> speech model -> keyword search -> MQTT.

Options:
${CONFIG_OPTIONS}
  -h, --help            print this help

Exit codes: 0 input ended or stopped by a signal; 1 a fault (systemd restarts it); 75 the outbox was
not drained in time; 78 the configuration, the vocabulary or the model is wrong (fix it, then start again).
`,
  detect: `Usage: gearhear detect [options] FILE...|-

Runs the daemon's listening path over WAV files as fast as possible and prints what it hears. A file
named \`-\` is audio on stdin (a WAV stream, or raw s16le 16 kHz mono). The parts are built from the
same configuration as \`gearhear run\`; the flags are shorthands for its keys. Like the daemon it
applies the calibration (calibration.file, else <vocabulary>.calibration.json) when it was made for
these detectors and this vocabulary version.

Options:
  --json                one JSON object per detection per line
  --files-from LIST|-   also read the files named in LIST (one per line, or NUL-separated; -: stdin)
  --vocab FILE          vocabulary (vocab.file); its lexicon is compiled beside it when missing
  --model DIR           model folder (model.dir)
  --variant int8|fp32   which ONNX file of the model to run (model.variant)
  --threshold N         phone-model score in [0, 1] a term needs when its line sets none (kws.threshold)
  --detector heads|phones  term heads on the speech embedding, or the phone model for every term (model.detector)
  --phones kws|embedding|both  the phone model: ours on raw audio, the phone head on the speech embedding, or both, each term scored by both (model.phones)
  --heads DIR           term-head folder (model.headsDir)
  --heads-threshold N   head score in [0, 1] a term needs when its line sets none (model.headsThreshold)
  --vad silero|energy   voice-activity engine (vad.engine)
  --threads N           ONNX Runtime threads for one inference, 1-64 (model.intraOpThreads)
${CONFIG_OPTIONS}
  -h, --help            print this help

Exit codes: 0 every file was read; 1 a file could not be read (the others are still processed);
64 a wrong command line; 66 the --files-from list cannot be read; 78 the configuration, the vocabulary
or the model is wrong.
`,
  vocab: `Usage: gearhear vocab check FILE
       gearhear vocab compile FILE [--g2p espeak-ng|flite] [--no-heads] [--clips N] [--voices LIST] [--real-speech MANIFEST ... [--real-per-term N] [--real-units U] [--real-negatives MIN]] [--config FILE] [--set KEY=VALUE ...]

check     does every term have a pronunciation the keyword search accepts? (exit 1 when not)
compile   writes FILE's .lexicon.json from the CMU dictionary and a G2P for the other words; with
          model.detector = heads also FILE's .heads.json: a term head for every term the shipped
          term heads (model.headsDir) lack, fitted on synthesised speech of the term (espeak-ng, and flite,
          RHVoice, SVOX Pico and festival when installed)
          against the heads' bank of real speech; terms unchanged since the last compile are kept

Options:
  --g2p espeak-ng|flite  compile: the G2P for words the dictionary lacks (default espeak-ng)
  --no-heads             compile: only the lexicon
  --clips N              compile: synthesised clips per new term, 6-1000 (default 60)
  --voices LIST          compile: the synthesisers to use, from espeak-ng,flite,rhvoice,pico,festival (default:
                         every one installed; espeak-ng is always used)
  --real-speech MANIFEST compile (workstation): also real recordings of each new term, found in a transcribed
                         corpus (CSV: path, text or word, speaker) and aligned by PocketSphinx; repeatable
  --real-per-term N      compile: real occurrences taken per term, 1-1000 (default 60; two clips each)
  --real-units U         compile: words (whole occurrences only), pieces (only made from the corpus's real
                         phones) or words+pieces (whole ones, topped up with made ones; the default)
  --real-negatives MIN   compile: minutes of the corpus's speech without the new terms used as real negatives
                         (default 20; 0: none)
${CONFIG_OPTIONS}
  -h, --help             print this help

Exit codes: 0 done; 1 check found problems; 64 a wrong command line; 78 the vocabulary, the
configuration, the term heads or the real-speech manifest are wrong.
`,
  doctor: `Usage: gearhear doctor [--config FILE] [--set KEY=VALUE ...] [--quick]

Checks what the daemon needs, built as the daemon builds it: model, vocabulary, calibration, audio
device, broker.

Options:
${CONFIG_OPTIONS}
  --quick               only check that the running daemon is alive and hearing audio (its heartbeat
                        in state.dir): cheap enough for a container HEALTHCHECK
  -h, --help            print this help

Exit codes: 0 every check passed; 1 a check failed; 78 the configuration is wrong.
`,
  config: `Usage: gearhear config print [--config FILE] [--set KEY=VALUE ...]

Prints the effective configuration as JSON, secrets (and passwords inside URLs) masked.

Options:
${CONFIG_OPTIONS}
  -h, --help            print this help
`,
  demo: `Usage: gearhear demo [--file FILE.wav] [--realtime]

Runs the real daemon on the bundled demo recording with an embedded MQTT broker and prints what it
hears and every message it publishes.

Options:
  --file FILE.wav       another recording (16 kHz mono WAV is best)
  --realtime            deliver the audio at real-time speed instead of as fast as possible
  -h, --help            print this help
`,
  clips: `Usage: gearhear clips list [--since WHEN] [--verdict V] [--term TERM] [--json] [--config FILE] [--set KEY=VALUE ...]
       gearhear clips export --out DIR [--since WHEN] [--verdict V] [--term TERM] [--config FILE] [--set KEY=VALUE ...]

Lists or exports the evidence clips the daemon kept (evidence.enabled), read from <state.dir>/evidence
(state.dir from the configuration, or --set state.dir=DIR). Loads no model.

Options:
  --since WHEN          only clips heard since WHEN: an ISO date/time (2026-11-30, 2026-11-30T08:00Z) or an age (90m, 24h, 7d)
  --verdict V           only clips with this verdict: false, true, wrong-term, or none (no verdict yet)
  --term TERM           only clips of this term
  --json                list: one JSON object per clip (the clip's metadata and the WAV's path)
  --out DIR             export: copy each clip's WAV and JSON into DIR (created if missing)
${CONFIG_OPTIONS}
  -h, --help            print this help

Exit codes: 0 done; 64 a wrong command line; 78 the configuration is wrong.
`,
  calibrate: `Usage: gearhear calibrate [options] FILE|DIR...      from recordings in which no term is said
       gearhear calibrate --from-history [options]     from the daemon's score history (state.dir)
       gearhear calibrate --from-feedback [--feedback FILE] [options]

Per-term thresholds for a site (docs/calibration.md), written to the calibration file beside the
vocabulary; the daemon uses them for the terms the phone model detects.

Options:
  --target-fa-per-hour R   false alarms per hour per term to reach at most (default 0.1)
  --vocab FILE             vocabulary (default: vocab.file of the configuration)
  --labels FILE            spans where terms ARE said: lines "FILE START END [TERM]" (seconds)
  --out FILE               calibration file (default: calibration.file, else <vocabulary>.calibration.json)
  --model DIR, --variant int8|fp32   the model (default: the configuration's)
  --from-history           use <state.dir>/score-history.json instead of recordings
  --from-feedback          raise thresholds of terms with false verdicts (never below the site calibration)
  --feedback FILE          verdicts as JSON lines {"term","verdict":"false|true|wrong-term","score","clip"} (default: those stored with the evidence clips)
${CONFIG_OPTIONS}
  --factory                mark it as the shipped default: where it does not fit the running
                           detectors it is skipped without an error (docs/calibration.md)
  --force                  write it even from too little audio for the target (every term that
                           did not come up would get the highest threshold; refused otherwise)
  --json                   print the result as JSON
  -h, --help               print this help

Exit codes: 0 written; 64 a wrong command line, or too little audio for the target; 78 the configuration,
vocabulary, model, score history or calibration file is wrong.
`,
  enroll: `Usage: gearhear enroll TERM --from FILE|DIR... [--who NAME] [--config FILE] [--set KEY=VALUE ...]
       gearhear enroll TERM [--takes N] [--wait S] [--play] [--who NAME] [--config FILE] [--set KEY=VALUE ...]
       gearhear enroll list [--term TERM] [--json] [--config FILE] [--set KEY=VALUE ...]
       gearhear enroll remove TAKE_ID... | --term TERM | --who NAME [--config FILE] [--set KEY=VALUE ...]
       gearhear enroll export --out DIR [--term TERM] [--config FILE] [--set KEY=VALUE ...]

Takes of a vocabulary term said by the people of this site, kept in <state.dir>/enrolment (owner-only,
enrolment.maxTakesPerTerm and enrolment.maxAgeH bound them; README, "Enrolment"), for gearhear adapt.
Each take (a WAV file, or every .wav in a folder) is checked: a silent, too quiet or clipped take, or
one without speech or with more than one term's worth of it, is refused with the file named; the others
are trimmed to their speech by the voice-activity gate (vad.*) and kept. Without --from it records
from the configured audio source (audio.source: the microphone, or file:/stdin), prompting on stderr
"say 'TERM' — 3 of 5"; each speech segment the gate hears is one take.

Options:
  --from FILE|DIR       WAV files of the term said once each (repeatable; a folder: its .wav files)
  --takes N             from the audio source: how many takes to keep (default 5)
  --wait S              from the audio source: give up after S seconds without speech (default 10)
  --play                from the audio source: play each kept take back (aplay)
  --who NAME            who said the takes (stored with them; default: the user running the command)
  --term TERM           list, remove, export: only takes of this term
  --json                list: one JSON object per take
  --out DIR             export: copy each take's WAV and JSON into DIR (created if missing)
${CONFIG_OPTIONS}
  -h, --help            print this help

Exit codes: 0 done; 64 a wrong command line, or a term that is not in the vocabulary; 65 a take was
refused (the others were kept); 78 the configuration or the vocabulary is wrong.
`,
  adapt: `Usage: gearhear adapt [--terms T1,T2] [--negatives FILE|DIR...] [--noise FILE|DIR...] [--dry-run] [--json] [--config FILE] [--set KEY=VALUE ...]

Refits a site head for every enrolled term (gearhear enroll; and evidence clips marked true) on top of
its factory head (shipped, or compiled by gearhear vocab compile), against the shipped negative bank,
the site's term-free recordings (--negatives) and the evidence clips marked false, and writes them to
<state.dir>/site-heads.json, which run and detect use with model.detector = heads (delete the file to
go back to the factory heads). A term's new head is refused, and its previous one kept, when its takes
do not sound like the term, when it finds fewer held-out takes than the factory head, or when it raises
more false alarms on held-out negatives than enrolment.targetFaPerHour (docs/enrolment.md).

Options:
  --terms T1,T2         only these enrolled terms (default: every term with enrolment.minTakes takes)
  --negatives FILE|DIR  the site's recordings without any term (WAV; repeatable): hard negatives
  --noise FILE|DIR      the site's machine noise without speech (WAV; repeatable), to perturb takes with
  --dry-run             measure and print, write nothing
  --json                print one JSON object per term
${CONFIG_OPTIONS}
  -h, --help            print this help

Exit codes: 0 every term adapted; 64 a wrong command line; 65 a term's head was refused (its previous
one stays; the others were written); 78 the configuration, vocabulary, model or site heads are wrong.
`,
} as const;

export type CommandName = keyof typeof COMMAND_USAGE;

const PARSE_ERRORS = new Set(['ERR_PARSE_ARGS_UNKNOWN_OPTION', 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE', 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL']);

/** Writes a usage error (message, then the command's usage) to stderr; returns EX_USAGE. */
export function usageError(command: CommandName, message: string): number {
  process.stderr.write(`gearhear ${command}: ${message}\n\n${COMMAND_USAGE[command]}`);
  return EX_USAGE;
}

/** True when the arguments ask for help (before any `--`). */
function wantsHelp(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

/**
 * parseArgs for a command: the parsed values, or the exit code when the command is done already
 * (0 after printing --help, EX_USAGE after a usage error).
 */
export function parseCommandArgs<T extends ParseArgsConfig>(command: CommandName, config: T): ReturnType<typeof parseArgs<T>> | number {
  const undocumented = Object.keys(config.options ?? {}).filter((name) => !COMMAND_USAGE[command].includes(`--${name}`));
  if (undocumented.length > 0) throw new Error(`gearhear ${command}: the usage does not document ${undocumented.map((n) => `--${n}`).join(', ')}`);
  if (wantsHelp(config.args ?? [])) {
    process.stdout.write(COMMAND_USAGE[command]);
    return 0;
  }
  try {
    return parseArgs(config);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code && PARSE_ERRORS.has(code)) return usageError(command, parseErrorMessage(command, err as Error));
    throw err;
  }
}

/**
 * parseArgs's message, in our words where its own is wrong: for an unknown option in a command that
 * takes positionals, Node's hint ends `as in '-- "--bogus"` with a quote never closed.
 */
function parseErrorMessage(command: CommandName, err: Error): string {
  const unknown = /^Unknown option '([^']*)'\. To specify a positional argument/.exec(err.message);
  if (!unknown) return err.message;
  return `Unknown option '${unknown[1]}'. To name a file that starts with '-', put it after '--' at the end: gearhear ${command} ... -- ${unknown[1]}`;
}

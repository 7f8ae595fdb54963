/** docs/configuration.md, generated from the schema so the two cannot drift (a test compares them). */
import { EX_CONFIG } from './errors.js';
import { FORMATS } from './formats.js';
import { schemaKeys, type KeyDef } from './schema.js';
import { CONFIG_FILE_ENV, DEFAULT_CONFIG_FILE } from './sources.js';

const INTRO = `# Configuration

<!-- Generated from src/config/schema.ts by \`node dist/src/config/gen-docs.js\`; do not edit by hand. -->

gearhear reads its settings once at start-up, from these sources (later ones win):

1. the defaults below;
2. a JSON config file: \`--config FILE\`, else the file named by \`${CONFIG_FILE_ENV}\`, else
   \`${DEFAULT_CONFIG_FILE}\` if it exists. Keys nest by their dots:
   \`{ "mqtt": { "url": "mqtts://broker:8883" }, "vad": { "engine": "energy" } }\`.
   Unknown keys are errors, so a misspelt key is never silently ignored;
3. environment variables \`GEARHEAR_*\` (balena device variables, systemd \`Environment=\`).
   Unknown \`GEARHEAR_*\` variables are errors too;
4. command-line flags.

Every value is checked strictly. Booleans are \`1/true/yes/on\` or \`0/false/no/off\`; numbers must be
whole numbers or decimals within the range shown; durations are a number in the unit of the key
(\`Ms\`, \`S\`, \`H\`) or a number with a unit (\`300ms\`, \`5s\`, \`2m\`, \`1h\`, \`7d\`); sizes take \`kB\`, \`MB\`,
\`GB\`, \`KiB\`, \`MiB\`, \`GiB\`; lists are comma-separated (spaces trimmed, empty items dropped).
Relative paths are relative to the config file's folder when they come from the file, and to the
working directory when they come from the environment or the command line.

A bad value stops the daemon with exit code ${EX_CONFIG} (EX_CONFIG) and a message naming the key, the
value, where it came from and what is allowed. \`gearhear config print\` shows the effective
configuration with secrets masked.
`;

/** A table cell: pipes escaped, and `<...>` escaped outside code spans so Markdown does not read it as HTML. */
function cell(text: string): string {
  const parts = text.replace(/\|/g, '\\|').replace(/\n/g, ' ').split('`');
  return parts.map((p, i) => (i % 2 === 1 ? p : p.replace(/</g, '&lt;').replace(/>/g, '&gt;'))).join('`');
}

function defaultText(def: KeyDef): string {
  if (def.docDefault) return def.docDefault;
  if (Array.isArray(def.default)) return def.default.length === 0 ? '(empty)' : `\`${def.default.join(',')}\``;
  if (def.default === '') return '(empty)';
  return `\`${String(def.default)}\``;
}

function row(key: string, def: KeyDef): string {
  const secret = def.sensitive ? ' Secret: masked when printed.' : '';
  return `| \`${key}\` | \`${def.env}\` | ${cell(defaultText(def))} | ${cell(FORMATS[def.format].describe(def))} | ${cell(def.doc + secret)} |`;
}

/** The whole of docs/configuration.md. */
export function renderConfigDocs(): string {
  const groups = new Map<string, Array<[string, KeyDef]>>();
  for (const [key, def] of schemaKeys()) {
    const group = key.split('.')[0]!;
    groups.set(group, [...(groups.get(group) ?? []), [key, def]]);
  }
  const sections = [...groups].map(([group, rows]) =>
    [`## ${group}`, '', '| Key | Environment | Default | Allowed | Description |', '| --- | --- | --- | --- | --- |', ...rows.map(([k, d]) => row(k, d))].join('\n'),
  );
  return [INTRO, ...sections].join('\n\n') + '\n';
}

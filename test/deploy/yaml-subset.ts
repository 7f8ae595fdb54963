/**
 * A reader for the block-style YAML subset that deploy/balena's docker-compose.yml and balena.yml
 * are written in: nested maps, lists (of scalars or of maps), plain and quoted scalars, comments.
 * Anything else (flow collections, anchors, multi-line strings, tabs) is an error naming the line,
 * so the files stay simple enough to be checked here without a YAML library.
 * Scalars stay strings; `key:` with nothing under it is null.
 */
export type YamlValue = string | null | YamlValue[] | { [key: string]: YamlValue };

interface Line {
  number: number;
  indent: number;
  text: string;
}

const UNSUPPORTED = /^[[{&*!|>]/;

function stripComment(raw: string): string {
  let quote: string | null = null;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (quote) { if (c === quote) quote = null; continue; }
    if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || raw[i - 1] === ' ')) return raw.slice(0, i);
  }
  return raw;
}

function scalar(text: string, line: Line): string {
  if (UNSUPPORTED.test(text)) throw new Error(`line ${line.number}: unsupported YAML (${text}); use block style`);
  const quoted = /^(["'])(.*)\1$/.exec(text);
  if (quoted) return quoted[2]!;
  if (/^["']/.test(text)) throw new Error(`line ${line.number}: unterminated quote in ${text}`);
  return text;
}

/** Splits `key: value` (key may be quoted); null when the text is not a map entry. */
function mapEntry(text: string): [string, string] | null {
  const match = /^("[^"]*"|'[^']*'|[^\s"'#:][^:]*?):(?:\s+(.*))?$/.exec(text);
  if (!match) return null;
  return [match[1]!.replace(/^["']|["']$/g, ''), (match[2] ?? '').trim()];
}

function parseBlock(lines: Line[], start: number, indent: number): [YamlValue, number] {
  const first = lines[start]!;
  if (first.text.startsWith('- ') || first.text === '-') return parseList(lines, start, indent);
  return parseMap(lines, start, indent);
}

function parseList(lines: Line[], start: number, indent: number): [YamlValue[], number] {
  const items: YamlValue[] = [];
  let i = start;
  while (i < lines.length && lines[i]!.indent === indent && (lines[i]!.text.startsWith('- ') || lines[i]!.text === '-')) {
    const line = lines[i]!;
    const rest = line.text.slice(1).trimStart();
    if (rest === '') {
      const next = lines[i + 1];
      if (!next || next.indent <= indent) throw new Error(`line ${line.number}: empty list item`);
      const [value, end] = parseBlock(lines, i + 1, next.indent);
      items.push(value);
      i = end;
    } else if (mapEntry(rest) && !/^["']/.test(rest)) {
      // "- key: value" starts a map whose further keys sit under "key".
      const itemIndent = indent + (line.text.length - rest.length);
      const replaced = [...lines];
      replaced[i] = { number: line.number, indent: itemIndent, text: rest };
      const [value, end] = parseMap(replaced, i, itemIndent);
      items.push(value);
      i = end;
    } else {
      items.push(scalar(rest, line));
      i++;
    }
  }
  return [items, i];
}

function parseMap(lines: Line[], start: number, indent: number): [{ [key: string]: YamlValue }, number] {
  const map: { [key: string]: YamlValue } = {};
  let i = start;
  while (i < lines.length && lines[i]!.indent >= indent) {
    const line = lines[i]!;
    if (line.indent > indent) throw new Error(`line ${line.number}: unexpected indentation`);
    const entry = mapEntry(line.text);
    if (!entry) throw new Error(`line ${line.number}: expected "key: value", got ${line.text}`);
    const [key, rest] = entry;
    if (key in map) throw new Error(`line ${line.number}: duplicate key ${key}`);
    i++;
    if (rest !== '') {
      map[key] = scalar(rest, line);
      continue;
    }
    const next = lines[i];
    const nestedList = next !== undefined && next.indent === indent && next.text.startsWith('- ');
    if (next !== undefined && (next.indent > indent || nestedList)) {
      const [value, end] = parseBlock(lines, i, next.indent);
      map[key] = value;
      i = end;
    } else {
      map[key] = null;
    }
  }
  return [map, i];
}

export function parseYamlSubset(text: string): YamlValue {
  const lines: Line[] = [];
  text.split('\n').forEach((raw, index) => {
    if (raw.includes('\t')) throw new Error(`line ${index + 1}: tab character; indent with spaces`);
    const content = stripComment(raw).trimEnd();
    if (content.trim() === '' || content.trim() === '---') return;
    const indent = content.length - content.trimStart().length;
    lines.push({ number: index + 1, indent, text: content.trim() });
  });
  if (lines.length === 0) return null;
  const [value, end] = parseBlock(lines, 0, lines[0]!.indent);
  if (end < lines.length) throw new Error(`line ${lines[end]!.number}: unexpected indentation`);
  return value;
}

/**
 * Paths as the CLI prints them. A file name can hold any byte but `/` and NUL (a `--files-from` list
 * of binary names, a name with an escape sequence or a right-to-left override): printed raw, it
 * would drive the terminal or hide what the name is. Such a name is printed quoted and escaped.
 */

/** What a terminal acts on or hides: controls (C0, DEL, C1), format characters (bidi overrides), lone surrogates, private and unassigned code points, U+FFFD (bytes that were not UTF-8). */
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\uFFFD]/u;
const NON_PRINTABLE_OR_QUOTE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\uFFFD"\\]/gu;
const SHORT_ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '"': '\\"', '\\': '\\\\' };

/** JSON-style: the short escapes, else `\uXXXX` for each UTF-16 unit. */
function escapeChar(ch: string): string {
  return SHORT_ESCAPES[ch] ?? ch.split('').map((unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`).join('');
}

/** The path as it is when every character is printable; else in double quotes with JSON-style escapes (`"a\u001b[31m.wav"`). */
export function shownPath(path: string): string {
  return NON_PRINTABLE.test(path) ? `"${path.replace(NON_PRINTABLE_OR_QUOTE, escapeChar)}"` : path;
}

/** A message about `path` (an error's): the path as shownPath prints it, and any other non-printable character escaped. */
export function messageAbout(message: string, path: string): string {
  const named = path === '' ? message : message.split(path).join(shownPath(path));
  return named.replace(new RegExp(NON_PRINTABLE.source, 'gu'), escapeChar);
}

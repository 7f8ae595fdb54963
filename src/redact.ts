/** Hiding secrets in what is shown or published: a leaf module, used by config, publish and the CLI. */

/** What stands in for a secret. */
export const MASK = '********';

/** `scheme://`, then everything up to the LAST `@` (greedy): the user-info, however it is written. */
const USER_INFO = /^([a-z][a-z0-9+.-]*:\/\/)[^]*@/i;

/**
 * The URL with its user-info (`user:password@`) replaced by the mask: shown in logs, `config print`,
 * `doctor` and the retained `info` topic. A token can sit in the user name alone, so both go.
 * Not parsed: a password holding `/`, `?`, `#` or `@` unencoded ends the URL's authority early
 * for a parser, so everything between `://` and the last `@` is masked (an `@` later in a path or
 * query masks more than the user-info, never less).
 */
export function redactUrl(url: string): string {
  const m = USER_INFO.exec(url);
  return m ? `${m[1]}${MASK}@${url.slice(m[0].length)}` : url;
}

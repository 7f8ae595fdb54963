/** Hiding secrets in what is shown or published: a leaf module, used by config, publish and the CLI. */

/** What stands in for a secret. */
export const MASK = '********';

/**
 * The URL with its user-info (`user:password@`) replaced by the mask: shown in logs, `config print`,
 * `doctor` and the retained `info` topic. A token can sit in the user name alone, so both go.
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = MASK;
    u.password = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return url.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, `$1${MASK}@`);
  }
}

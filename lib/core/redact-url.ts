/**
 * Removes the password (and the user, which is often a secret too) from a URL so it can be
 * logged, put in an error or shown in health output. Never throws: an unparsable string is
 * replaced wholesale, since it may itself contain the secret.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    // No authority ("guest:secret@host" parses as protocol "guest:" and path "secret@host"): the
    // rest may hold the secret, so keep only the protocol.
    if (parsed.host === '') return `${parsed.protocol}<redacted>`;
    if (parsed.username || parsed.password) {
      parsed.username = '***';
      parsed.password = '';
    }
    return parsed.toString();
  } catch {
    return '<unparsable url>';
  }
}

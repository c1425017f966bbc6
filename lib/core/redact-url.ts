/**
 * Removes the password (and the user, which is often a secret too) from a URL so it can be
 * logged, put in an error or shown in health output. Never throws: an unparsable string is
 * replaced wholesale, since it may itself contain the secret.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.username || parsed.password) {
      parsed.username = '***';
      parsed.password = '';
    }
    return parsed.toString();
  } catch {
    return '<unparsable url>';
  }
}

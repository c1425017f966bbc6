import { redactUrl } from '../core/redact-url.js';

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\//i;

/**
 * Copy of health details safe to show and log: Terminus returns and logs the details of a failing
 * check, so URLs are redacted, errors reduced to name/code, and depth bounded. Adapters already
 * report stats only; this is the last line of defence.
 */
export function safeDetails(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return URL_LIKE.test(value) ? redactUrl(value) : value;
  if (typeof value !== 'object' || value === null)
    return typeof value === 'function' ? undefined : value;
  if (depth > 4) return '[…]';
  if (value instanceof Error) return { error: (value as { code?: unknown }).code ?? value.name };
  if (Array.isArray(value)) return value.map((v) => safeDetails(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (/pass(word)?|secret|token|credential|sasl|url/i.test(k)) continue;
    out[k] = safeDetails(v, depth + 1);
  }
  return out;
}

/** Bounds of an exponential backoff. */
export interface BackoffOptions {
  /** Ceiling of the first delay (attempt 1), in ms. */
  initialDelayMs: number;
  /** The ceiling never grows past this, in ms. */
  maxDelayMs: number;
}

/** Shortest delay returned: a retry always goes through a timer, never a synchronous loop. */
const MIN_DELAY_MS = 1;

/**
 * "Full jitter" exponential backoff: a delay drawn uniformly from
 * `[0, min(maxDelayMs, initialDelayMs * 2^(attempt-1))]`. The randomness spreads the retries of
 * many clients that failed together (a broker restart) instead of sending them back in waves.
 *
 * @param attempt 1 for the delay after the first failure, 2 after the second, ...
 * @param random  uniform in [0, 1); injectable for deterministic tests.
 * @returns delay in ms, at least 1 ms.
 */
export function fullJitterBackoff(
  attempt: number,
  options: BackoffOptions,
  random: () => number = Math.random,
): number {
  // Cap the exponent: 2^1024 is Infinity and Infinity * 0 is NaN.
  const exponent = Math.min(Math.max(attempt, 1) - 1, 52);
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** exponent);
  return Math.max(MIN_DELAY_MS, Math.floor(random() * ceiling));
}

import { InvalidPoolOptionsError } from './errors/invalid-pool-options.error.js';
import { MAX_TIMER_MS } from './option-checks.js';

/**
 * Checks a duration passed per call (`acquire({ timeoutMs })`, `ping(timeoutMs)`,
 * `drain(deadlineMs)`): a number of ms up to MAX_TIMER_MS, above 0 (or 0 too when `allowZero`).
 * Returns the error to reject with, or undefined. Why a check at all: Node fires a timer of NaN,
 * a negative or a > 2147483647 ms delay after 1 ms, so a bad value would turn into an instant,
 * misleading timeout.
 */
export function invalidDurationArgument(
  key: string,
  value: unknown,
  allowZero: boolean,
  example: string,
): InvalidPoolOptionsError | undefined {
  if (isDuration(value, allowZero)) return undefined;
  const range = allowZero ? `[0, ${MAX_TIMER_MS}]` : `(0, ${MAX_TIMER_MS}]`;
  return new InvalidPoolOptionsError(
    key,
    `must be a number of ms in ${range}, got ${String(value)}`,
    `pass e.g. ${example}`,
  );
}

/** The test of `invalidDurationArgument`, for hot paths that must not allocate. */
export function isDuration(value: unknown, allowZero: boolean): value is number {
  return typeof value === 'number' && (allowZero ? value >= 0 : value > 0) && value <= MAX_TIMER_MS;
}

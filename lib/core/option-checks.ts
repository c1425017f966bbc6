import { InvalidPoolOptionsError } from './errors/invalid-pool-options.error.js';

/**
 * The checks every options validator is made of (core pool, RabbitMQ, Kafka, Kafka consume, Nest
 * module), so one kind of mistake reads the same wherever it is made. Each failure is an
 * `InvalidPoolOptionsError` naming the dotted key (`kafka.retry.retries`), what is wrong and the fix.
 * Values are echoed only through `describeOptionValue` (short); keys that can hold secrets (URLs,
 * SASL) are checked by their validators without echoing.
 */

/** Longest delay `setTimeout` honours; a longer one fires after 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;

export type OptionBag = Record<string, unknown>;

/** A plain object of options (not an array, not a RegExp, not null). */
export function isOptionBag(value: unknown): value is OptionBag {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof RegExp)
  );
}

/** The dotted key of `prop` inside `parent` ('' for the top level). */
export function optionKey(parent: string, prop: string): string {
  return parent === '' ? prop : `${parent}.${prop}`;
}

/** `value` as a bag of options, or a failure naming `key`; `expected` shows the shape wanted. */
export function checkObject(
  value: unknown,
  key: string,
  expected = `an object for "${key}"`,
): OptionBag {
  if (!isOptionBag(value)) {
    throw new InvalidPoolOptionsError(
      key,
      // A string where an object belongs may be a credential put one level too high: not echoed.
      `must be an object, got ${typeof value === 'string' ? 'a string' : describeOptionValue(value)}`,
      `pass ${expected}`,
    );
  }
  return value;
}

/** Rejects the first key of `bag` not in `allowed` (a typo would otherwise be silently ignored). */
export function checkKnownKeys(bag: OptionBag, parent: string, allowed: readonly string[]): void {
  for (const k of Object.keys(bag)) {
    if (!allowed.includes(k)) {
      throw new InvalidPoolOptionsError(
        optionKey(parent, k),
        'unknown option',
        parent === ''
          ? `remove it; known options are: ${allowed.join(', ')}`
          : `remove it; known options of "${parent}" are: ${allowed.join(', ')}`,
      );
    }
  }
}

/** How a number is checked beyond its range: a fix of its own, and values an option also accepts. */
export interface NumberCheck {
  /** The fix in the message, when a general "set it to …" is less helpful than an example. */
  fix?: string;
  /** `Infinity` is accepted too (e.g. an unbounded wait queue). */
  allowInfinity?: boolean;
  /** Durations only: a fraction of a ms is accepted too (timers take any number). */
  fractional?: boolean;
}

/** `bag[prop]`: an integer in [min, max], or `fallback` when absent. */
export function checkInt(
  bag: OptionBag,
  prop: string,
  parent: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
  how: NumberCheck = {},
): number {
  const value = bag[prop];
  if (value === undefined) return fallback;
  const ok =
    typeof value === 'number' &&
    value >= min &&
    ((Number.isInteger(value) && value <= max) ||
      (how.allowInfinity === true && value === Number.POSITIVE_INFINITY));
  if (!ok) {
    const key = optionKey(parent, prop);
    const range =
      (max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`) +
      (how.allowInfinity === true ? ' or Infinity' : '');
    throw new InvalidPoolOptionsError(
      key,
      `must be an integer ${range}, got ${describeOptionValue(value)}`,
      how.fix ?? `set "${key}" to an integer ${range} or leave it out (default ${fallback})`,
    );
  }
  return value;
}

/**
 * `bag[prop]`: a duration in ms, an integer (any number with `fractional`) in
 * [min, min(max, MAX_TIMER_MS)], or `fallback`. Node fires a longer timer after 1 ms (and the Kafka
 * protocol carries durations as int32), so a larger value would mean "at once": it gets its own
 * message.
 */
export function checkMs(
  bag: OptionBag,
  prop: string,
  parent: string,
  fallback: number,
  min: number,
  max = MAX_TIMER_MS,
  how: NumberCheck = {},
): number {
  const value = bag[prop];
  if (value === undefined) return fallback;
  const upper = Math.min(max, MAX_TIMER_MS);
  const key = optionKey(parent, prop);
  const isNumber =
    typeof value === 'number' &&
    (how.fractional === true ? Number.isFinite(value) : Number.isInteger(value));
  if (isNumber && value > MAX_TIMER_MS) {
    throw new InvalidPoolOptionsError(
      key,
      `must be <= ${MAX_TIMER_MS} ms (the longest timer Node honours), got ${value}`,
      how.fix ??
        `set "${key}" to an integer between ${min} and ${upper} or leave it out (default ${fallback})`,
    );
  }
  if (how.fractional !== true) return checkInt(bag, prop, parent, fallback, min, upper, how);
  if (!isNumber || value < min || value > upper) {
    throw new InvalidPoolOptionsError(
      key,
      `must be a finite number of ms ${upper === MAX_TIMER_MS ? `>= ${min}` : `between ${min} and ${upper}`}, got ${describeOptionValue(value)}`,
      how.fix ??
        `set "${key}" to a number of ms between ${min} and ${upper} or leave it out (default ${fallback})`,
    );
  }
  return value;
}

/** `bag[prop]`: a boolean, or `fallback` when absent. */
export function checkBoolean(
  bag: OptionBag,
  prop: string,
  parent: string,
  fallback: boolean,
): boolean {
  const value = bag[prop];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    const key = optionKey(parent, prop);
    throw new InvalidPoolOptionsError(
      key,
      `must be a boolean, got ${describeOptionValue(value)}`,
      `set "${key}" to true or false (default ${fallback})`,
    );
  }
  return value;
}

/** `bag[prop]`: a non-empty string, or `fallback`; a `secret` value is never echoed. */
export function checkString(
  bag: OptionBag,
  prop: string,
  parent: string,
  fallback?: string,
  secret = false,
): string | undefined {
  const value = bag[prop];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '') {
    const key = optionKey(parent, prop);
    throw new InvalidPoolOptionsError(
      key,
      `must be a non-empty string, got ${secret ? typeof value : describeOptionValue(value)}`,
      `set "${key}" to a non-empty string`,
    );
  }
  return value;
}

/** `bag[prop]`: one of `allowed`, or `fallback` when absent. */
export function checkOneOf<T extends string>(
  bag: OptionBag,
  prop: string,
  parent: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = bag[prop];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    const key = optionKey(parent, prop);
    throw new InvalidPoolOptionsError(
      key,
      `must be one of ${allowed.join(', ')}, got ${describeOptionValue(value)}`,
      `set "${key}" to one of ${allowed.join(', ')}`,
    );
  }
  return value as T;
}

/** Rejects `minKey` above `maxKey` (a backoff whose first delay exceeds its cap, a min above a max). */
export function checkOrdered(
  minKey: string,
  minValue: number,
  maxKey: string,
  maxValue: number,
): void {
  if (minValue > maxValue) {
    throw new InvalidPoolOptionsError(
      minKey,
      `must not exceed "${maxKey}" (${minValue} > ${maxValue})`,
      `lower "${minKey}" or raise "${maxKey}"`,
    );
  }
}

/** A short description of a value for a message: strings quoted and cut at 40 characters. */
export function describeOptionValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import { MAX_TIMER_MS } from '../core/resolve-pool-options.js';

/**
 * Small assertion helpers shared by the Kafka option validators. Every failure names the dotted key
 * and the fix; values are never echoed for keys that can hold secrets.
 */

export type Bag = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Bag {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof RegExp)
  );
}

export function checkObject(value: unknown, key: string): Bag {
  if (!isPlainObject(value)) {
    throw new InvalidPoolOptionsError(
      key,
      `expected an object, got ${describe(value)}`,
      `pass an object for "${key}"`,
    );
  }
  return value;
}

export function checkKnownKeys(bag: Bag, key: string, allowed: readonly string[]): void {
  for (const k of Object.keys(bag)) {
    if (!allowed.includes(k)) {
      throw new InvalidPoolOptionsError(
        `${key}.${k}`,
        'unknown option',
        `remove it; known options of "${key}" are: ${allowed.join(', ')}`,
      );
    }
  }
}

export function checkInt(
  bag: Bag,
  prop: string,
  key: string,
  fallback: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): number {
  const value = bag[prop];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `between ${min} and ${max}`;
    throw new InvalidPoolOptionsError(
      `${key}.${prop}`,
      `expected an integer ${range}, got ${describe(value)}`,
      `set "${key}.${prop}" to an integer ${range} or leave it out (default ${fallback})`,
    );
  }
  return value;
}

/**
 * A duration in ms: an integer >= `min` and <= `MAX_TIMER_MS`. Node fires a longer timer after 1 ms
 * (and the Kafka protocol carries durations as int32), so a larger value would mean "at once".
 */
export function checkMs(
  bag: Bag,
  prop: string,
  key: string,
  fallback: number,
  min: number,
): number {
  const value = bag[prop];
  if (typeof value === 'number' && Number.isInteger(value) && value > MAX_TIMER_MS) {
    throw new InvalidPoolOptionsError(
      `${key}.${prop}`,
      `must be <= ${MAX_TIMER_MS} ms (the longest timer Node honours), got ${value}`,
      `set "${key}.${prop}" to an integer between ${min} and ${MAX_TIMER_MS} or leave it out (default ${fallback})`,
    );
  }
  return checkInt(bag, prop, key, fallback, min, MAX_TIMER_MS);
}

export function checkBoolean(bag: Bag, prop: string, key: string, fallback: boolean): boolean {
  const value = bag[prop];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new InvalidPoolOptionsError(
      `${key}.${prop}`,
      `expected a boolean, got ${describe(value)}`,
      `set "${key}.${prop}" to true or false`,
    );
  }
  return value;
}

export function checkString(
  bag: Bag,
  prop: string,
  key: string,
  fallback?: string,
  secret = false,
): string | undefined {
  const value = bag[prop];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value.trim() === '') {
    throw new InvalidPoolOptionsError(
      `${key}.${prop}`,
      `expected a non-empty string, got ${secret ? typeof value : describe(value)}`,
      `set "${key}.${prop}" to a non-empty string`,
    );
  }
  return value;
}

export function checkOneOf<T extends string>(
  bag: Bag,
  prop: string,
  key: string,
  allowed: readonly T[],
  fallback: T,
): T {
  const value = bag[prop];
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new InvalidPoolOptionsError(
      `${key}.${prop}`,
      `expected one of ${allowed.join(', ')}, got ${describe(value)}`,
      `set "${key}.${prop}" to one of ${allowed.join(', ')}`,
    );
  }
  return value as T;
}

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

/** Short, value-revealing description for non-secret keys. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

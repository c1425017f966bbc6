import { InvalidPoolOptionsError } from './errors/invalid-pool-options.error.js';
import {
  checkInt,
  checkKnownKeys,
  checkMs,
  checkObject,
  optionKey,
  type OptionBag,
} from './option-checks.js';

/**
 * Retries of a declarative handler (DESIGN §6). `attempts` counts deliveries in all, the first
 * included: `attempts: 3` is one delivery and two retries. `delayMs` is the wait before every retry,
 * or a list with one wait per retry (the last repeats when the list is shorter).
 */
export interface HandlerRetryPolicy {
  attempts: number;
  delayMs: number | number[];
}

/** No retry: the first failure dead-letters. */
export const NO_RETRY: HandlerRetryPolicy = { attempts: 1, delayMs: 0 };

/** The wait before delivery number `attempt + 1` (attempt ≥ 1). */
export function retryDelayMs(policy: HandlerRetryPolicy, attempt: number): number {
  const { delayMs } = policy;
  if (typeof delayMs === 'number') return delayMs;
  return delayMs[Math.min(attempt - 1, delayMs.length - 1)] ?? 0;
}

/** Validates a retry policy found at `key` (e.g. `rabbitSubscribe(OrdersHandler.handle).retry`). */
export function checkRetryPolicy(value: unknown, key: string): HandlerRetryPolicy | undefined {
  if (value === undefined) return undefined;
  const bag = checkObject(value, key);
  checkKnownKeys(bag, key, ['attempts', 'delayMs']);
  if (bag['attempts'] === undefined) {
    throw new InvalidPoolOptionsError(
      optionKey(key, 'attempts'),
      'is missing',
      'set the number of deliveries in all, first included (e.g. attempts: 3)',
    );
  }
  const attempts = checkInt(bag, 'attempts', key, 1, 1, 100);
  const delay = bag['delayMs'];
  if (!Array.isArray(delay)) return { attempts, delayMs: checkMs(bag, 'delayMs', key, 0, 0) };
  if (delay.length === 0) {
    throw new InvalidPoolOptionsError(
      optionKey(key, 'delayMs'),
      'is an empty list',
      'give one delay per retry (e.g. [1000, 5000]), or a single number',
    );
  }
  const delays = delay.map((_, i) =>
    checkMs(delay as unknown as OptionBag, String(i), optionKey(key, 'delayMs'), 0, 0),
  );
  return { attempts, delayMs: delays };
}

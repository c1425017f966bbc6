import type { Clock } from '../core/clock.js';

/**
 * Settles like `promise`, or rejects after `ms` (with `onTimeout()`'s error). Every broker round trip the
 * library makes goes through this: no wait without a deadline.
 */
export function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  clock: Clock,
  onTimeout?: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = clock.setTimeout(
      () => reject(onTimeout ? onTimeout() : new Error(`timed out after ${ms}ms`)),
      ms,
    );
    timer.unref?.();
    promise.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}

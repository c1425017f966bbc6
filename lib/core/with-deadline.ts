import type { Clock } from './clock.js';

/**
 * Settles with `work`, or rejects with `onTimeout()` after `ms`. `work` keeps running after a
 * timeout (a client request cannot be recalled) but its outcome is always observed, so a late
 * rejection is never unhandled.
 */
export function withDeadline<T>(
  work: Promise<T>,
  ms: number,
  clock: Clock,
  onTimeout: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const timer = clock.setTimeout(
      () => {
        if (settled) return;
        settled = true;
        reject(onTimeout());
      },
      Math.max(0, ms),
    );
    work.then(
      (value) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** Resolves after `ms` (an unref'ed timer via the clock), or at once when `signal` aborts. */
export function sleep(ms: number, clock: Clock, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      resolve();
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Message of an unknown thrown value, for logs (never the whole object, which may hold config). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (typeof error === 'string') return error;
  if (typeof error === 'object' && error !== null) {
    // A non-Error throw such as { message } or { reason }: its message if it has one, else its kind.
    const { message } = error as { message?: unknown };
    const kind = (error as { constructor?: { name?: string } }).constructor?.name || 'object';
    return typeof message === 'string' ? `${kind}: ${message}` : `a thrown ${kind} (not an Error)`;
  }
  return `${String(error)} thrown (not an Error)`;
}

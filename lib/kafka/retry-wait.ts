import type { Clock } from '../core/clock.js';
import { sleep } from '../core/with-deadline.js';

export interface RetryWait {
  clock: Clock;
  /** The consumer's stop: ends the wait at once. */
  signal: AbortSignal;
  /** The client's heartbeat for the record's group (kafkajs sends at most one per interval). */
  heartbeat(): Promise<void>;
  heartbeatEveryMs: number;
  /** The error thrown when `signal` ends the wait. */
  onAbort(): Error;
}

/**
 * Waits `ms` before a retry without losing the group membership: a handler that does not return
 * sends no heartbeats of its own, and past the session timeout the broker would evict the member
 * and hand its partitions to another. So the wait heartbeats every `heartbeatEveryMs`. A heartbeat
 * that fails (the group is rebalancing: the partition may be leaving) rejects with its error, and
 * a stop with `onAbort()`: in both cases the record is not committed and is delivered again.
 */
export async function waitBeforeRetry(ms: number, wait: RetryWait): Promise<void> {
  const { clock, signal } = wait;
  const end = clock.now() + ms;
  for (;;) {
    if (signal.aborted) throw wait.onAbort();
    const left = end - clock.now();
    if (left <= 0) return;
    await sleep(Math.min(left, wait.heartbeatEveryMs), clock, signal);
    if (signal.aborted) throw wait.onAbort();
    if (end - clock.now() > 0) await wait.heartbeat();
  }
}

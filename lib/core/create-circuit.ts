import { type BackoffOptions, fullJitterBackoff } from './backoff.js';
import { PoolExhaustedError } from './errors/pool-exhausted.error.js';
import type { PoolStats } from './pool-stats.js';

/**
 * What a pool knows about its failing `factory.create()` calls, and the policy built on it.
 *
 * - Backoff: each consecutive failure pushes the next attempt out by a full-jitter exponential
 *   delay; while failing, the pool makes one probe at a time, at `nextAttemptAt`: never a hot loop.
 * - Cause: a waiter that times out gets the last creation error as `cause` when a creation failed
 *   while it waited, or the pool is still failing.
 * - Fail fast (`failFastAfterCreateFailures: N`, off by default, because the contract is "waiters
 *   fail at their deadline with the cause" and the deadline plus `maxWaiting` already bound the
 *   wait): after N consecutive failures, while the pool holds no resource at all (nothing idle,
 *   nothing leased that could come back), `acquire()` rejects at once with `PoolExhaustedError`
 *   (reason `createFailing`, `cause` = last error, `retryAfterMs` = next probe). The pool keeps
 *   probing, one creation per backoff delay, even with no caller waiting; the first success
 *   closes the circuit. Callers already queued keep their deadline.
 */
export class CreateCircuit {
  /** Consecutive failures; 0 once a creation succeeds. */
  failures = 0;
  /** Every failure ever: a waiter compares it with the count when it started waiting. */
  sequence = 0;
  lastError: unknown = undefined;
  /** When the next creation may start while failing (pool clock, ms). */
  nextAttemptAt = 0;

  constructor(
    private readonly failFastAfter: number,
    private readonly backoff: BackoffOptions,
    private readonly random: () => number,
  ) {}

  succeeded(): void {
    this.failures = 0;
  }

  /**
   * Creations can succeed again (the adapter's connection is back): no backoff before the next
   * one. `sequence` and `lastError` stay, so waits that saw the failures still get their cause.
   */
  reset(): void {
    this.failures = 0;
    this.nextAttemptAt = 0;
  }

  /** Records a failure at `now`; returns the delay before the next attempt. */
  failed(error: unknown, now: number): number {
    this.failures++;
    this.sequence++;
    this.lastError = error;
    const retryInMs = fullJitterBackoff(this.failures, this.backoff, this.random);
    this.nextAttemptAt = now + retryInMs;
    return retryInMs;
  }

  /** Whether acquires fail at once: the opt-in threshold is reached and `live` (idle + leased + validating) is 0. */
  failingFast(live: number): boolean {
    return this.failFastAfter > 0 && this.failures >= this.failFastAfter && live === 0;
  }

  /** The `cause` for a waiter that timed out, which started waiting at failure `sequenceAtEnqueue`. */
  causeFor(sequenceAtEnqueue: number): unknown {
    return this.failures > 0 || this.sequence > sequenceAtEnqueue ? this.lastError : undefined;
  }

  /** The rejection of an acquire while failing fast. */
  exhaustedError(pool: string, stats: PoolStats, now: number): PoolExhaustedError {
    return new PoolExhaustedError({
      pool,
      reason: 'createFailing',
      stats,
      failures: this.failures,
      retryAfterMs: Math.max(0, Math.ceil(this.nextAttemptAt - now)),
      cause: this.lastError,
    });
  }
}

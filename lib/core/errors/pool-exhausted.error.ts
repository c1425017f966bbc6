import type { PoolStats } from '../pool-stats.js';
import { formatStats } from './format-stats.js';
import { MqPoolError } from './mq-pool.error.js';

/**
 * Rejected at once instead of queued (back-pressure):
 * - `maxWaiting`: the wait queue is full;
 * - `createFailing`: resource creation failed `failFastAfterCreateFailures` times in a row and the
 *   pool holds no resource; it fails fast until a probe creation succeeds (`retryAfterMs` = next probe).
 */
export class PoolExhaustedError extends MqPoolError {
  readonly code = 'MQ_POOL_EXHAUSTED';
  readonly pool: string;
  readonly reason: 'maxWaiting' | 'createFailing';
  readonly stats: PoolStats;
  /** A hint for `Retry-After`, when the pool can tell. */
  readonly retryAfterMs: number | undefined;

  constructor(details: {
    pool: string;
    reason: 'maxWaiting' | 'createFailing';
    stats: PoolStats;
    maxWaiting?: number;
    failures?: number;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    const message =
      details.reason === 'maxWaiting'
        ? `pool "${details.pool}" is exhausted: ${details.stats.waiting} callers already waiting, maxWaiting=${details.maxWaiting} ${formatStats(details.stats)}. ` +
          'Fix: raise max or maxWaiting, or shed load upstream'
        : `pool "${details.pool}" is failing fast: the last ${details.failures} resource creations failed and it holds no resource ${formatStats(details.stats)}; ` +
          `next probe in ${details.retryAfterMs}ms, see cause`;
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.pool = details.pool;
    this.reason = details.reason;
    this.stats = details.stats;
    this.retryAfterMs = details.retryAfterMs;
  }
}

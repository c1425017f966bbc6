import type { PoolStats } from '../pool-stats.js';
import { formatStats } from './format-stats.js';
import { MqPoolError } from './mq-pool.error.js';

/**
 * Rejected at once instead of queued (back-pressure):
 * - `maxWaiting`: the wait queue is full;
 * - `maxOutstanding`: as many RPC requests as allowed already await their reply;
 * - `createFailing`: resource creation failed `failFastAfterCreateFailures` times in a row and the
 *   pool holds no resource; it fails fast until a probe creation succeeds (`retryAfterMs` = next probe).
 */
export type ExhaustedReason = 'maxWaiting' | 'maxOutstanding' | 'createFailing';

export class PoolExhaustedError extends MqPoolError {
  readonly code = 'MQ_POOL_EXHAUSTED';
  readonly pool: string;
  readonly reason: ExhaustedReason;
  readonly stats: PoolStats;
  /** A hint for `Retry-After`, when the pool can tell. */
  readonly retryAfterMs: number | undefined;

  constructor(details: {
    pool: string;
    reason: ExhaustedReason;
    stats: PoolStats;
    maxWaiting?: number;
    /** With `maxOutstanding`: the bound and its option key (e.g. `rabbitmq.rpc.maxOutstanding`). */
    maxOutstanding?: { limit: number; option: string };
    failures?: number;
    retryAfterMs?: number;
    cause?: unknown;
  }) {
    const outstanding = details.maxOutstanding;
    const message =
      details.reason === 'maxWaiting'
        ? `pool "${details.pool}" is exhausted: ${details.stats.waiting} callers already waiting, maxWaiting=${details.maxWaiting} ${formatStats(details.stats)}. ` +
          'Fix: raise max or maxWaiting, or shed load upstream'
        : details.reason === 'maxOutstanding'
          ? `pool "${details.pool}" is exhausted: ${outstanding?.limit} requests already await their reply (${outstanding?.option}). ` +
            `Fix: raise ${outstanding?.option}, make the servers answer faster, or shed load upstream`
          : `pool "${details.pool}" is failing fast: the last ${details.failures} resource creations failed and it holds no resource ${formatStats(details.stats)}; ` +
            `next probe in ${details.retryAfterMs}ms, see cause`;
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.pool = details.pool;
    this.reason = details.reason;
    this.stats = details.stats;
    this.retryAfterMs = details.retryAfterMs;
  }
}

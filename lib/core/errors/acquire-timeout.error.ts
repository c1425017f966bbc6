import type { PoolStats } from '../pool-stats.js';
import { formatStats } from './format-stats.js';
import { MqPoolError } from './mq-pool.error.js';

/**
 * No resource became free before the acquire deadline. `stats` is the pool at that moment;
 * `cause` is the last resource-creation failure, if creations were failing (a broker down shows
 * here, not as a bare timeout).
 */
export class AcquireTimeoutError extends MqPoolError {
  readonly code = 'MQ_POOL_ACQUIRE_TIMEOUT';
  readonly pool: string;
  readonly timeoutMs: number;
  readonly stats: PoolStats;

  constructor(details: { pool: string; timeoutMs: number; stats: PoolStats; cause?: unknown }) {
    super(
      `acquire timed out after ${details.timeoutMs}ms ${formatStats(details.stats)} in pool "${details.pool}"` +
        (details.cause === undefined ? '' : '; resource creation is failing, see cause'),
      details.cause === undefined ? undefined : { cause: details.cause },
    );
    this.pool = details.pool;
    this.timeoutMs = details.timeoutMs;
    this.stats = details.stats;
  }
}

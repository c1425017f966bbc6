import { AcquireTimeoutError } from '../core/errors/acquire-timeout.error.js';
import type { PoolStats } from '../core/pool-stats.js';
import { addPoolWaitEvent, poolStatsAttributes, wallClockMs } from './messaging-span.js';
import type { Span } from './otel-api.js';

/**
 * Runs a pool acquire and records on `span` how long it waited and the pool's stats when it asked
 * (size, in use, waiting): the event that makes a saturated pool visible in a trace.
 */
export async function traceAcquire<T>(
  span: Span,
  pool: string,
  stats: () => PoolStats,
  acquire: () => Promise<T>,
): Promise<T> {
  const atStart = poolStatsAttributes(pool, stats());
  const startedAt = wallClockMs();
  try {
    const value = await acquire();
    addPoolWaitEvent(span, wallClockMs() - startedAt, atStart, 'acquired');
    return value;
  } catch (error) {
    const timedOut = error instanceof AcquireTimeoutError;
    addPoolWaitEvent(span, wallClockMs() - startedAt, atStart, timedOut ? 'timeout' : 'failed');
    throw error;
  }
}

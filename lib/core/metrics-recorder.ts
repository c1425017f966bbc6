/** Why an acquire failed, as a bounded label set for metrics. */
export type AcquireFailureReason = 'timeout' | 'exhausted' | 'closed' | 'aborted';

/**
 * Hot-path metrics of one pool. The Prometheus layer implements it; gauges (sizes) are sampled
 * from `pool.stats()` at scrape time instead, never pushed from here.
 */
export interface PoolMetricsRecorder {
  /** A lease was handed out after waiting `waitSeconds` (0 when a resource was idle). */
  acquired(waitSeconds: number): void;
  acquireFailed(reason: AcquireFailureReason): void;
  /** A lease was held longer than `leakDetectionMs`. */
  leak(): void;
}

const noop = (): void => undefined;

/** Null object used when no recorder is given, so the hot path needs no `if`. */
export const NOOP_POOL_METRICS: PoolMetricsRecorder = Object.freeze({
  acquired: noop,
  acquireFailed: noop,
  leak: noop,
});

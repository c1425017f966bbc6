import type { AcquireFailureReason, PoolMetricsRecorder } from '../core/metrics-recorder.js';
import type { PoolKind } from '../nest/mq-pool.constants.js';
import type { MqMetrics } from './mq-metrics.js';

const ACQUIRE_FAILURES: readonly AcquireFailureReason[] = [
  'timeout',
  'exhausted',
  'closed',
  'aborted',
];

/**
 * The core pool's hot-path recorder on Prometheus. Label children are resolved once here, so a
 * recording is one `observe`/`inc` with no label hashing.
 */
export class PrometheusPoolMetricsRecorder implements PoolMetricsRecorder {
  private readonly acquireSeconds;
  private readonly leaks;
  private readonly failures: Record<AcquireFailureReason, { inc(): void }>;

  constructor(metrics: MqMetrics, pool: string, broker: PoolKind) {
    const base = { pool, broker };
    this.acquireSeconds = metrics.acquireSeconds.labels(base);
    // Zero-initialised so dashboards and alerts see the series before the first event.
    metrics.acquireSeconds.zero(base);
    this.leaks = metrics.leaks.labels(base);
    this.leaks.inc(0);
    const failures = {} as Record<AcquireFailureReason, { inc(): void }>;
    for (const reason of ACQUIRE_FAILURES) {
      const child = metrics.acquireErrors.labels({ ...base, reason });
      child.inc(0);
      failures[reason] = child;
    }
    this.failures = failures;
  }

  acquired(waitSeconds: number): void {
    this.acquireSeconds.observe(waitSeconds);
  }

  acquireFailed(reason: AcquireFailureReason): void {
    this.failures[reason]?.inc();
  }

  leak(): void {
    this.leaks.inc();
  }
}

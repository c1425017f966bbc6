import { PoolExhaustedError } from '../core/errors/pool-exhausted.error.js';
import type { PoolMetricsRecorder } from '../core/metrics-recorder.js';
import type { AcquireOptions, Pool } from '../core/pool.js';
import { activeTracer, recordingActiveSpan, traceAcquire } from '../telemetry/index.js';
import { PoolChannelLease } from './channel-lease.js';
import type { LaneWaits } from './publisher-lane.js';
import type { PooledChannel } from './pooled-channel.js';

const NO_LANE: LaneWaits = { waiting: 0 };

/**
 * How a pool's channels are leased: a lease of the core pool, wrapped as a `ChannelLease`. One per
 * RabbitMqPool, shared by `acquire()`, `withChannel()` and the channel scopes of `@WithChannel()`
 * and `ChannelInterceptor` — which take leases here, below RabbitMqPool, never by calling back up
 * into it. It is also the key of the pool's scopes in the async context (channel-scope.ts).
 */
export class ChannelLeases {
  constructor(
    private readonly pool: Pool<PooledChannel>,
    /** The core pool's name, for errors and the acquire span event. */
    private readonly name: string,
    /** The pool's one bound on waiting callers, shared with the publishes waiting in the lane. */
    private readonly maxWaiting: number,
    private readonly metrics: Pick<PoolMetricsRecorder, 'acquireFailed'>,
  ) {}

  /** Set once the lane exists (it leases through the core pool, so it comes after this). */
  lane: LaneWaits = NO_LANE;

  async acquire(opts?: AcquireOptions): Promise<PoolChannelLease> {
    // The core pool bounds its own waiters by maxWaiting; publishes queued in the lane count
    // against the same bound (one number, as configured). Nothing to check while none wait,
    // which is the common case, so the hot path pays one call and one comparison.
    const publishes = this.lane.waiting;
    if (publishes > 0) this.checkWaitBound(publishes);
    // Inside a recording span, the wait and the pool's stats become a span event; otherwise this
    // costs one check (no tracer registered is the common case).
    const span = activeTracer() === undefined ? undefined : recordingActiveSpan();
    const lease =
      span === undefined
        ? await this.pool.acquire(opts)
        : await traceAcquire(
            span,
            this.name,
            () => this.pool.stats(),
            () => this.pool.acquire(opts),
          );
    return new PoolChannelLease(lease);
  }

  /** Throws PoolExhaustedError when this acquire would wait and the waiting callers fill maxWaiting. */
  private checkWaitBound(publishes: number): void {
    const stats = this.pool.stats();
    const wouldWait = stats.idle === 0 && stats.size >= stats.max;
    const waiting = stats.waiting + publishes;
    if (!wouldWait || waiting < this.maxWaiting) return;
    this.metrics.acquireFailed('exhausted');
    throw new PoolExhaustedError({
      pool: this.name,
      reason: 'maxWaiting',
      stats: { ...stats, waiting },
      maxWaiting: this.maxWaiting,
    });
  }
}

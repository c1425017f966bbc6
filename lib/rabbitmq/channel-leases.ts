import type { AcquireOptions, Pool } from '../core/pool.js';
import { activeTracer, recordingActiveSpan, traceAcquire } from '../telemetry/index.js';
import { PoolChannelLease } from './channel-lease.js';
import type { PooledChannel } from './pooled-channel.js';

/**
 * How a pool's channels are leased: a lease of the core pool, wrapped as a `ChannelLease`. One per
 * RabbitMqPool, shared by `acquire()`, `withChannel()` and the channel scopes of `@WithChannel()`
 * and `ChannelInterceptor` — which take leases here, below RabbitMqPool, never by calling back up
 * into it. It is also the key of the pool's scopes in the async context (channel-scope.ts).
 */
export class ChannelLeases {
  constructor(
    private readonly pool: Pool<PooledChannel>,
    /** The core pool's name, for the acquire span event. */
    private readonly name: string,
  ) {}

  async acquire(opts?: AcquireOptions): Promise<PoolChannelLease> {
    // maxWaiting is the core pool's check: publishes queued in the lane are in its wait bound.
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
}

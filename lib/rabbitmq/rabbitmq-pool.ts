import type { ConfirmChannel } from 'amqplib';
import { type Clock, SYSTEM_CLOCK } from '../core/clock.js';
import { PoolClosedError } from '../core/errors/pool-closed.error.js';
import { guardRecorder } from '../core/guard-recorder.js';
import { type MqLogger, NOOP_LOGGER } from '../core/logger.js';
import { NOOP_POOL_METRICS, type PoolMetricsRecorder } from '../core/metrics-recorder.js';
import { Pool, type AcquireOptions } from '../core/pool.js';
import { ChannelFactory } from './channel-factory.js';
import type { ChannelLease } from './channel-lease.js';
import { ChannelLeases } from './channel-leases.js';
import { ChannelScope, withChannel } from './channel-scope.js';
import { ConnectionSet } from './connection-set.js';
import type { ConnectionSlot } from './connection-slot.js';
import { Consumer } from './consumer.js';
import type { ConsumeHandler, ConsumeOptions, ConsumerHandle } from './consumer-options.js';
import { ConnectionUnavailableError } from './errors/connection-unavailable.error.js';
import type { StaleDeliveryError } from './errors/stale-delivery.error.js';
import type { PooledChannel } from './pooled-channel.js';
import type { MessageContent, PublishOptions } from './publish-message.js';
import { PublisherLane } from './publisher-lane.js';
import {
  NOOP_RABBITMQ_METRICS,
  type ConnectionRole,
  type RabbitMqMetricsRecorder,
} from './rabbitmq-metrics.js';
import type { RabbitMqPoolOptions, ResolvedRabbitMqOptions } from './rabbitmq-options.js';
import { validateRabbitMqOptions } from './rabbitmq-options.validator.js';
import type {
  RabbitMqDrainReport,
  RabbitMqHealth,
  RabbitMqPoolStats,
} from './rabbitmq-pool-stats.js';
import { TypedEmitter } from '../core/typed-emitter.js';
import { withDeadline } from '../core/with-deadline.js';
import { withTraceContext } from '../telemetry/index.js';
import { invalidDurationArgument } from '../core/duration-argument.js';
import { describeConnectFailure } from '../core/connect-failure.js';
import { keepAliveUntilSettled } from '../core/keep-process-alive.js';
import { redactUrl } from '../core/redact-url.js';

export interface RabbitMqPoolDeps {
  /** Pool name for logs, errors and metrics labels. Default "default". */
  name?: string;
  logger?: MqLogger;
  metrics?: RabbitMqMetricsRecorder;
  /** Acquire/leak metrics of the channel pool (core recorder). */
  poolMetrics?: PoolMetricsRecorder;
  clock?: Clock;
  random?: () => number;
}

export interface ConnectionEvent {
  role: ConnectionRole;
  index: number;
}

/** Events of a RabbitMqPool. Listeners that throw are logged and ignored. */
export interface RabbitMqPoolEvents {
  connectionUp: ConnectionEvent & { generation: number };
  connectionDown: ConnectionEvent & { error: Error };
  blocked: ConnectionEvent & { reason: string };
  unblocked: ConnectionEvent;
  staleDelivery: StaleDeliveryError;
  /** A lease was held longer than `leakDetectionMs` (reported once per lease; `site` as in the core pool's `leak` event). */
  leak: { heldMs: number; site: string | undefined; leaks: number };
}

/**
 * The RabbitMQ pool users inject: bounded connections and confirm channels, exclusive leases,
 * confirmed publishing at pipelined speed, consumers that survive reconnects, phased drain.
 *
 * Made of: ConnectionSet (connections + reconnect), ChannelFactory + core Pool, ChannelLeases
 * (leases), PublisherLane (publish/sendToQueue), Consumer (one per consume()), ChannelScope in an
 * AsyncLocalStorage (re-entrant withChannel). This class only wires them and orders the drain.
 */
export class RabbitMqPool {
  readonly name: string;
  readonly options: ResolvedRabbitMqOptions;
  private readonly clock: Clock;
  private readonly logger: MqLogger;
  private readonly metrics: RabbitMqMetricsRecorder;
  private readonly random: () => number;
  private readonly connections: ConnectionSet;
  private readonly factory: ChannelFactory;
  private readonly pool: Pool<PooledChannel>;
  private readonly lane: PublisherLane;
  private readonly consumers = new Set<Consumer>();
  /**
   * @internal How this pool's channels are leased, and the key of its channel scopes: the Nest
   * glue (`@WithChannel()`, `ChannelInterceptor`) enters scopes over it without going through
   * this class again.
   */
  readonly leases: ChannelLeases;
  private pingInFlight: Promise<void> | undefined;
  private readonly events: TypedEmitter<RabbitMqPoolEvents>;
  private state: 'new' | 'running' | 'draining' | 'closed' = 'new';
  private staleDeliveries = 0;
  private drainPromise: Promise<RabbitMqDrainReport> | undefined;

  constructor(options: RabbitMqPoolOptions, deps: RabbitMqPoolDeps = {}) {
    this.name = deps.name ?? 'default';
    this.options = validateRabbitMqOptions(options, this.name);
    this.clock = deps.clock ?? SYSTEM_CLOCK;
    this.logger = withTraceContext(deps.logger ?? NOOP_LOGGER);
    this.metrics = guardRecorder(
      deps.metrics ?? NOOP_RABBITMQ_METRICS,
      NOOP_RABBITMQ_METRICS,
      (method, error) =>
        this.logger.error(`RabbitMQ metrics recorder ${method}() threw; ignored`, { error }),
    );
    const random = deps.random ?? Math.random;
    this.random = random;
    const o = this.options;
    this.events = new TypedEmitter<RabbitMqPoolEvents>(this.logger, `rabbitmq:${this.name}`);

    this.connections = new ConnectionSet(o, {
      poolName: this.name,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      random,
    });
    this.forwardConnectionEvents();

    this.factory = new ChannelFactory(this.connections, {
      channelsPerConnection: o.channelsPerConnection,
      // Shorter than an acquire deadline, so a caller timing out while the broker is down always
      // sees a failed create, hence the connect error as `cause`.
      waitForConnectionMs: Math.max(1, Math.min(1_000, Math.floor(o.acquireTimeoutMs / 2))),
      rpcTimeoutMs: o.connectTimeoutMs,
      backoff: o.reconnect,
      clock: this.clock,
      logger: this.logger,
      random,
    });
    this.pool = new Pool<PooledChannel>(this.factory, {
      name: `rabbitmq:${this.name}`,
      max: o.connections * o.channelsPerConnection,
      min: o.minChannels,
      acquireTimeoutMs: o.acquireTimeoutMs,
      maxWaiting: o.maxWaiting,
      idleTimeoutMs: o.idleTimeoutMs,
      maxLifetimeMs: o.maxLifetimeMs,
      leakDetectionMs: o.leakDetectionMs,
      captureLeakSite: o.captureLeakSite,
      // The factory waits for connections itself (event-driven) and backs off real failures.
      createBackoff: { initialDelayMs: 1, maxDelayMs: 50 },
      clock: this.clock,
      logger: this.logger,
      random,
      ...(deps.poolMetrics ? { metrics: deps.poolMetrics } : {}),
    });
    this.factory.onDead = (pc, reason) => this.pool.retire(pc, reason);
    this.leases = new ChannelLeases(
      this.pool,
      `rabbitmq:${this.name}`,
      o.maxWaiting,
      guardRecorder(deps.poolMetrics ?? NOOP_POOL_METRICS, NOOP_POOL_METRICS, (method, error) =>
        this.logger.error(`pool metrics recorder ${method}() threw; ignored`, { error }),
      ),
    );
    this.pool.on('leak', ({ heldMs, site, leaks }) =>
      this.events.emit('leak', { heldMs, site, leaks }),
    );

    this.lane = new PublisherLane({
      name: `rabbitmq:${this.name}`,
      publishChannels: o.publishChannels,
      maxInFlightPerChannel: o.maxInFlightPerChannel,
      maxWaiting: o.maxWaiting,
      acquireTimeoutMs: o.acquireTimeoutMs,
      confirmTimeoutMs: o.confirmTimeoutMs,
      rotateAfterMs: rotationInterval(o),
      backoff: o.reconnect,
      acquire: (opts) => {
        this.ensureStarted();
        return this.pool.acquire(opts);
      },
      poolStats: () => this.pool.stats(),
      lastFailure: () => this.whyNoChannel(),
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      random,
    });
    this.leases.lane = this.lane;
  }

  /**
   * Connects. Resolves once a publisher connection is up. Rejects at once with a
   * `PermanentConnectError` (`BrokerAuthenticationError`, `BrokerAccessDeniedError`,
   * `BrokerTlsError`) when the broker refuses in a way no retry fixes, else with
   * `ConnectionUnavailableError` (cause: the connect error) if none is up within `connectTimeoutMs`.
   * The reconnect loop keeps running either way (until `close()`), so a caller may ignore the
   * rejection and let the pool recover by itself. The process is held open until this settles.
   * Idempotent; other methods start the pool on first use too.
   */
  start(): Promise<void> {
    this.ensureStarted();
    return keepAliveUntilSettled(this.firstConnection());
  }

  private async firstConnection(): Promise<void> {
    const deadline = this.clock.now() + this.options.connectTimeoutMs;
    while (!this.connections.anyPublisherUp()) {
      if (this.state === 'closed' || this.state === 'draining')
        throw new PoolClosedError(`rabbitmq:${this.name}`, 'closed');
      const refused = this.connections.permanentFailure();
      if (refused) throw refused;
      const left = deadline - this.clock.now();
      if (left <= 0) {
        const cause = this.connections.lastError();
        const why =
          cause === undefined ? 'no attempt finished' : describeConnectFailure(cause).words;
        throw new ConnectionUnavailableError(
          `pool "${this.name}" could not connect to ${this.options.urls.map(redactUrl).join(', ')} within connectTimeoutMs (${this.options.connectTimeoutMs}ms): ${why}`,
          cause,
        );
      }
      await this.nextChange(left);
    }
  }

  // ------------------------------------------------------------------ leases

  /** An exclusive confirm channel. Release it (`release()` or `await using`). */
  acquire(opts?: AcquireOptions): Promise<ChannelLease> {
    this.ensureStarted();
    return this.leases.acquire(opts);
  }

  /**
   * Runs `fn` with an exclusive confirm channel, always released afterwards. Re-entrant: inside another
   * `withChannel` (or a channel scope) the same channel is reused. A channel the broker closes under
   * `fn` is destroyed; only this caller sees the error.
   */
  withChannel<T>(fn: (channel: ConfirmChannel) => Promise<T>, opts?: AcquireOptions): Promise<T> {
    this.ensureStarted();
    return withChannel(this.leases, fn, opts);
  }

  /** The channel of the current async context (a `withChannel` or a scope that already took one). */
  currentChannel(): ConfirmChannel | undefined {
    return ChannelScope.current(this.leases)?.channel;
  }

  // --------------------------------------------------------------- publishing

  /** Resolves once the broker confirmed the message; see PublisherLane for errors and retries. */
  publish(
    exchange: string,
    routingKey: string,
    content: MessageContent,
    options?: PublishOptions,
  ): Promise<void> {
    return this.lane.publish(exchange, routingKey, content, options);
  }

  sendToQueue(queue: string, content: MessageContent, options?: PublishOptions): Promise<void> {
    return this.lane.publish('', queue, content, options);
  }

  // ---------------------------------------------------------------- consuming

  /** Subscribes `handler` to `queue` on a dedicated consumer channel; see Consumer. */
  async consume(
    queue: string,
    handler: ConsumeHandler,
    options: ConsumeOptions = {},
  ): Promise<ConsumerHandle> {
    if (this.state === 'draining' || this.state === 'closed') {
      throw new PoolClosedError(`rabbitmq:${this.name}`, this.state);
    }
    this.ensureStarted();
    const consumer = new Consumer(queue, handler, options, {
      connections: this.connections,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      random: this.random,
      backoff: this.options.reconnect,
      defaultTimeoutMs: options.timeoutMs ?? this.options.acquireTimeoutMs,
      onStaleDelivery: (error) => {
        this.staleDeliveries++;
        this.events.emit('staleDelivery', error);
      },
      onGone: (c) => this.consumers.delete(c),
    });
    this.consumers.add(consumer);
    await keepAliveUntilSettled(consumer.start());
    return consumer;
  }

  // ----------------------------------------------------------- observability

  stats(): RabbitMqPoolStats {
    const c = this.connections.stats();
    const p = this.pool.stats();
    const lane = this.lane.stats();
    let active = 0;
    let inFlight = 0;
    for (const consumer of this.consumers) {
      if (consumer.active) active++;
      inFlight += consumer.inFlight;
    }
    const shared = this.connections.consumers === this.connections.publishers;
    return {
      connections: c.publishers.up,
      consumerConnections: c.consumers.up,
      blocked: c.publishers.blocked + (shared ? 0 : c.consumers.blocked),
      channels: { max: p.max, total: p.size, idle: p.idle, leased: p.leased, creating: p.creating },
      waiting: p.waiting + lane.waiting,
      publisher: lane,
      consumers: { total: this.consumers.size, active, inFlight },
      connectAttempts: c.connectAttempts,
      staleDeliveries: this.staleDeliveries,
      leaks: p.leaks,
      draining: this.state === 'draining',
      closed: this.state === 'closed',
    };
  }

  /** From state only (no I/O). Down when draining/closed, no publisher connection, all blocked, or saturated. */
  health(): RabbitMqHealth {
    const stats = this.stats();
    const details: Record<string, unknown> = { ...stats };
    const down = (reason: string): RabbitMqHealth => ({ healthy: false, reason, details });
    if (stats.closed) return down('pool is closed');
    if (stats.draining) return down('pool is draining');
    if (this.state === 'new') return down('pool not started');
    if (stats.connections === 0) return down('no publisher connection to the broker');
    if (
      stats.blocked >= stats.connections &&
      this.connections.publishers.every((s) => !s.isUp || s.blocked)
    ) {
      return down('every publisher connection is blocked by a broker resource alarm');
    }
    if (stats.channels.leased >= stats.channels.max && stats.waiting > 0) {
      return down(
        `channel pool saturated (${stats.channels.leased}/${stats.channels.max} leased, ${stats.waiting} waiting)`,
      );
    }
    return { healthy: true, details };
  }

  /**
   * A broker round trip (passive declare of `amq.direct`) over an existing channel, bounded by `timeoutMs`.
   * Never opens a connection; uses a publishing channel when there is one, else a pool lease.
   * Concurrent calls share one round trip, each bounded by its own `timeoutMs`.
   */
  ping(timeoutMs: number): Promise<void> {
    return keepAliveUntilSettled(this.pingWithin(timeoutMs));
  }

  private async pingWithin(timeoutMs: number): Promise<void> {
    const invalid = invalidDurationArgument('timeoutMs', timeoutMs, false, 'ping(2000)');
    if (invalid !== undefined) throw invalid;
    if (!this.connections.anyPublisherUp()) {
      throw new ConnectionUnavailableError(
        'no publisher connection is up',
        this.connections.lastError(),
      );
    }
    // Concurrent probes share one round trip: amqplib runs one RPC at a time per channel, so on a
    // slow broker separate pings would queue behind each other (and pile up work on the broker).
    // Each caller still gets its own deadline.
    this.pingInFlight ??= this.pingRoundTrip(timeoutMs).finally(() => {
      this.pingInFlight = undefined;
    });
    await withDeadline(this.pingInFlight, timeoutMs, this.clock, () => pingTimeout(timeoutMs));
  }

  /** One broker round trip on a publishing channel (no lease taken), or on a leased one if none is ready. */
  private async pingRoundTrip(timeoutMs: number): Promise<void> {
    const ready = this.lane.anyReadyChannel();
    if (ready) await ready.channel.checkExchange('amq.direct');
    else await this.withChannel((ch) => ch.checkExchange('amq.direct'), { timeoutMs });
  }

  on<K extends keyof RabbitMqPoolEvents>(
    event: K,
    listener: (payload: RabbitMqPoolEvents[K]) => void,
  ): this {
    this.events.on(event, listener);
    return this;
  }

  off<K extends keyof RabbitMqPoolEvents>(
    event: K,
    listener: (payload: RabbitMqPoolEvents[K]) => void,
  ): this {
    this.events.off(event, listener);
    return this;
  }

  // --------------------------------------------------------------- shutdown

  /**
   * Graceful shutdown within `deadlineMs` (DESIGN §4): health goes down and new acquires fail with
   * PoolClosedError → consumers cancelled (no new deliveries) → running handlers awaited (they may still
   * publish) and leases awaited → outstanding confirms awaited → channels and connections closed.
   * Unacked deliveries return to their queue; nothing confirmed is lost. Idempotent.
   */
  drain(deadlineMs: number): Promise<RabbitMqDrainReport> {
    if (this.drainPromise === undefined) {
      const invalid = invalidDurationArgument('deadlineMs', deadlineMs, true, 'drain(10000)');
      if (invalid !== undefined) return Promise.reject(invalid);
    }
    this.drainPromise ??= keepAliveUntilSettled(this.runDrain(deadlineMs));
    return this.drainPromise;
  }

  /** Immediate shutdown: waiting publishes rejected, consumers' channels and connections closed. */
  close(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    return keepAliveUntilSettled(this.closeNow());
  }

  private async closeNow(): Promise<void> {
    const draining = this.drainPromise;
    this.state = 'closed';
    this.lane.close();
    await Promise.all([...this.consumers].map((c) => c.closeChannel()));
    await this.pool.close();
    await this.connections.close();
    if (draining) await draining.catch(() => undefined);
  }

  // ---------------------------------------------------------------- internals

  private async runDrain(deadlineMs: number): Promise<RabbitMqDrainReport> {
    const startedAt = this.clock.now();
    // Handlers and confirms get the deadline minus a reserve, so the publishing lane hands its channels back
    // before the channel pool (which has the full deadline) revokes what is still leased, and closing fits in.
    const deadlineAt = startedAt + deadlineMs - Math.min(1_000, deadlineMs * 0.1);
    const before = this.stats();
    this.logger.info('RabbitMQ pool draining', { pool: this.name, deadlineMs, ...before });
    if (this.state !== 'closed') this.state = 'draining';

    // Steps that talk to the broker (cancel, channel and connection close) each have their own
    // timeout; on an unresponsive broker several in a row would overrun the budget, so each is also
    // cut at what is left of it (the RPC may go on in the background; the connections are torn down).
    const endAt = startedAt + deadlineMs;
    let cut = false;
    const within = async (work: Promise<unknown>, untilAt: number): Promise<void> => {
      const done = await withDeadline(
        work.then(
          () => true,
          () => true,
        ),
        Math.max(0, untilAt - this.clock.now()),
        this.clock,
        () => new Error('drain step cut at the deadline'),
      ).catch(() => false);
      if (!done) cut = true;
    };

    const channelsDrained = this.pool.drain(deadlineMs);
    const consumers = [...this.consumers];
    await within(Promise.all(consumers.map((c) => c.stopDeliveries())), deadlineAt);
    const stillRunning = await Promise.all(consumers.map((c) => c.whenIdle(deadlineAt)));
    const handlersAtDeadline = stillRunning.reduce((a, b) => a + b, 0);
    const lane = await this.lane.drain(deadlineAt);
    const channels = await channelsDrained;
    await within(Promise.all(consumers.map((c) => c.closeChannel())), endAt);
    await this.connections.close(endAt);
    this.state = 'closed';

    const after = this.stats();
    const report: RabbitMqDrainReport = {
      durationMs: this.clock.now() - startedAt,
      timedOut:
        cut ||
        handlersAtDeadline > 0 ||
        lane.unconfirmedAtDeadline > 0 ||
        lane.waitingAtDeadline > 0 ||
        channels.timedOut,
      consumersCancelled: consumers.length,
      handlersAtDeadline,
      unconfirmedAtDeadline: lane.unconfirmedAtDeadline,
      waitingPublishesAtDeadline: lane.waitingAtDeadline,
      channels,
      before,
      after,
    };
    this.logger.info('RabbitMQ pool drained', {
      pool: this.name,
      ...report,
      before: undefined,
      after,
    });
    return report;
  }

  /** The `cause` for a publish that found no channel in time: the connect error, or the alarm blocking every connection. */
  private whyNoChannel(): unknown {
    const up = this.connections.publishers.filter((s) => s.isUp);
    if (up.length === 0) return this.connections.lastError();
    if (up.every((s) => s.blocked)) {
      return new ConnectionUnavailableError(
        'every publisher connection is blocked by a broker resource alarm (memory or disk)',
      );
    }
    return undefined;
  }

  private ensureStarted(): void {
    if (this.state !== 'new') return;
    this.state = 'running';
    this.connections.start();
  }

  private nextChange(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = this.clock.setTimeout(done, ms);
      timer.unref?.();
      const unsubscribe = this.connections.onNextChange(done);
      const clock = this.clock;
      function done(): void {
        clock.clearTimeout(timer);
        unsubscribe();
        resolve();
      }
    });
  }

  private forwardConnectionEvents(): void {
    const who = (slot: ConnectionSlot): ConnectionEvent => ({ role: slot.role, index: slot.index });
    // The lane pumps on confirms and new channels; an unblocked connection (or one back up) brings
    // neither, so publishes queued behind the alarm would wait for their deadline.
    this.connections.events.on('up', (slot) => {
      this.lane.wake();
      this.events.emit('connectionUp', { ...who(slot), generation: slot.generation });
    });
    this.connections.events.on('down', ({ slot, cause: error }) =>
      this.events.emit('connectionDown', { ...who(slot), error }),
    );
    this.connections.events.on('blocked', ({ slot, reason }) =>
      this.events.emit('blocked', { ...who(slot), reason }),
    );
    this.connections.events.on('unblocked', (slot) => {
      this.lane.wake();
      this.events.emit('unblocked', who(slot));
    });
  }
}

/**
 * Publishing channels are leased long-term. Rotating them keeps the pool's leak detector quiet (a lease is
 * reported only past leakDetectionMs) and lets maxLifetimeMs apply to them too.
 */
function rotationInterval(o: ResolvedRabbitMqOptions): number {
  const candidates = [
    o.leakDetectionMs > 0 ? Math.floor(o.leakDetectionMs / 2) : 0,
    o.maxLifetimeMs,
  ].filter((v) => v > 0);
  return candidates.length === 0 ? 0 : Math.max(1, Math.min(...candidates));
}

function pingTimeout(ms: number): Error {
  return new ConnectionUnavailableError(`ping got no answer within ${ms}ms`);
}

import type { Clock } from '../core/clock.js';
import { invalidDurationArgument } from '../core/duration-argument.js';
import { AcquireTimeoutError } from '../core/errors/acquire-timeout.error.js';
import { PoolClosedError } from '../core/errors/pool-closed.error.js';
import { PoolExhaustedError } from '../core/errors/pool-exhausted.error.js';
import type { Lease } from '../core/lease.js';
import type { MqLogger } from '../core/logger.js';
import type { PoolStats } from '../core/pool-stats.js';
import { pendingPromise } from '../core/settlers.js';
import type { WaitBound } from '../core/wait-bound.js';
import { WaiterQueue } from '../core/waiter-queue.js';
import { ConfirmTimeoutError } from './errors/confirm-timeout.error.js';
import { PublishFailedError } from './errors/publish-failed.error.js';
import { PublishRejectedError } from './errors/publish-rejected.error.js';
import { PublishUnconfirmedError } from './errors/publish-unconfirmed.error.js';
import { causedClose, isNack, LaneChannel, type LaneHooks } from './lane-channel.js';
import {
  encodeMessage,
  nextMessageId,
  type MessageContent,
  type PublishOptions,
} from './publish-message.js';
import { PublishJob } from './publish-job.js';
import type { PooledChannel } from './pooled-channel.js';
import { NOOP_RABBITMQ_METRICS, type RabbitMqMetricsRecorder } from './rabbitmq-metrics.js';
import { errorMessage } from '../core/with-deadline.js';
import {
  activeTracer,
  poolStatsAttributes,
  runInContext,
  type Attributes,
} from '../telemetry/index.js';
import { PublishTrace } from './publish-trace.js';

export interface PublisherLaneDeps {
  name: string;
  publishChannels: number;
  maxInFlightPerChannel: number;
  /**
   * The channel pool's one `maxWaiting` (its `waitBound`): the lane's queue joins it, so publishes
   * queued here and `acquire()`/`withChannel()` callers queued in the pool never exceed it together.
   */
  waitBound: WaitBound;
  acquireTimeoutMs: number;
  confirmTimeoutMs: number;
  /** Publishing channels are swapped for fresh leases after this long (0 = never); see rotationInterval(). */
  rotateAfterMs: number;
  /**
   * A channel for the lane, waiting in the channel pool's FIFO until `timeoutMs`. Never refused for
   * `maxWaiting`: the publishes it is for are counted already (`Pool.acquireForQueue`).
   */
  acquire(opts: { timeoutMs: number }): Promise<Lease<PooledChannel>>;
  poolStats(): PoolStats;
  /** Why channels cannot be had right now (the last connect error when no connection is up). */
  lastFailure(): unknown;
  clock: Clock;
  logger: MqLogger;
  metrics: RabbitMqMetricsRecorder;
}

export interface PublisherLaneStats {
  channels: number;
  inFlight: number;
  waiting: number;
}

export interface LaneDrainReport {
  /** Publishes still unconfirmed at the deadline (they fail with PublishUnconfirmedError, never succeed). */
  unconfirmedAtDeadline: number;
  /**
   * Publishes still waiting for a channel at the deadline: rejected with PoolClosedError, or with
   * PublishUnconfirmedError for a retry whose first write may have reached the broker.
   */
  waitingAtDeadline: number;
}

/**
 * `publish()` without an exclusive lease per message. A few channels (`publishChannels`) are leased
 * long-term from the same pool as `acquire()` — so `connections × channelsPerConnection` bounds them too —
 * and confirms are pipelined on them: each publish goes to the least-loaded ready channel, in-flight is
 * bounded per channel and by the socket write buffer, and beyond that publishes wait in the core's FIFO
 * (`WaiterQueue`), bounded by the pool's one `maxWaiting` (`WaitBound`), each until its own deadline.
 * Nothing is buffered without bound, and a publish resolves only on the broker's ack.
 *
 * No retry loop of its own: a failed request for a channel is asked again at once only after it
 * waited its full timeout in the pool; otherwise at the next publish or `wake()` (a connection up or
 * unblocked). The connection slots own the reconnect timing.
 *
 * When a channel dies with publishes in flight, each is retried once (same messageId) on a healthy
 * channel; if that also fails it is rejected with PublishUnconfirmedError — never reported as sent.
 *
 * States: open -> closing (drain: no new publishes, in-flight finish) -> closed.
 */
export class PublisherLane implements LaneHooks {
  readonly clock: Clock;
  readonly maxInFlight: number;
  readonly confirmTimeoutMs: number;
  /** Publish latency is measured (two real clock reads per publish) only when someone records it. */
  private readonly timed: boolean;
  private state: 'open' | 'closing' | 'closed' = 'open';
  private channels: LaneChannel[] = [];
  /** Rotated out, waiting for their last confirms before their lease goes back. */
  private retiring: LaneChannel[] = [];
  private acquiring = 0;
  private lastAcquireError: unknown;
  /** Publishes waiting for room on a channel; joins the pool's wait bound. */
  private readonly queue = new WaiterQueue<PublishJob>();
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly deps: PublisherLaneDeps) {
    this.clock = deps.clock;
    this.maxInFlight = deps.maxInFlightPerChannel;
    this.confirmTimeoutMs = deps.confirmTimeoutMs;
    this.timed = deps.metrics !== NOOP_RABBITMQ_METRICS;
    deps.waitBound.join(this.queue);
  }

  now(): number {
    return this.clock.now();
  }

  publish(
    exchange: string,
    routingKey: string,
    content: MessageContent,
    options?: PublishOptions,
  ): Promise<void> {
    if (this.state !== 'open') {
      this.deps.metrics.publishError('closed');
      return Promise.reject(
        new PoolClosedError(this.deps.name, this.state === 'closing' ? 'draining' : 'closed'),
      );
    }
    let job: PublishJob;
    const startedAt = this.timed ? this.clock.now() : 0;
    if (options === undefined && Buffer.isBuffer(content)) {
      // Hot path: bytes, no options. Nothing to encode or validate (the default timeout was
      // checked once, with the options), so the job is the only allocation besides the promise.
      const messageId = nextMessageId();
      job = new PublishJob(
        exchange,
        routingKey,
        content,
        { messageId, persistent: true },
        messageId,
        this.deps.acquireTimeoutMs,
        undefined,
        startedAt,
      );
    } else {
      let encoded;
      try {
        encoded = encodeMessage(content, options);
      } catch (error) {
        this.deps.metrics.publishError('invalid');
        return Promise.reject(error);
      }
      if (options?.signal?.aborted) {
        this.deps.metrics.publishError('aborted');
        return Promise.reject(options.signal.reason);
      }
      const timeoutMs = options?.timeoutMs ?? this.deps.acquireTimeoutMs;
      // The same check, error and message as acquire({ timeoutMs }) (lib/core/duration-argument.ts).
      const invalid = invalidDurationArgument(
        'timeoutMs',
        timeoutMs,
        false,
        '{ timeoutMs: 5000 } or omit it',
      );
      if (invalid !== undefined) {
        this.deps.metrics.publishError('invalid');
        return Promise.reject(invalid);
      }
      job = new PublishJob(
        exchange,
        routingKey,
        encoded.body,
        encoded.options,
        encoded.messageId,
        timeoutMs,
        options?.signal,
        startedAt,
      );
    }
    const tracer = activeTracer();
    if (tracer !== undefined) job.trace = new PublishTrace(tracer, this.deps.name);
    // The job is its own settlers: no resolve/reject closures per publish.
    const promise = pendingPromise<void>(job);
    // FIFO: a publish may go straight to a channel only when nobody queued before it.
    if (this.queue.length === 0) {
      const lc = this.pick();
      if (lc) {
        this.write(lc, job);
        // A channel short (a request refused earlier): ask again, on demand.
        if (this.channels.length + this.acquiring < this.deps.publishChannels) this.replenish();
        return promise;
      }
    }
    // Not the hot path from here: only publishes that find no ready channel. The bound is checked
    // before the lane asks for a channel for this publish (enqueue), so its own request does not
    // count against the publish it is for.
    const bound = this.deps.waitBound;
    // Like the core pool, publishes the lane can take once its channels exist do not count as waiting.
    if (bound.isFull(0) && bound.isFull(this.servable())) {
      const stats = { ...this.deps.poolStats(), waiting: bound.waiting };
      const error = new PoolExhaustedError({
        pool: this.deps.name,
        reason: 'maxWaiting',
        stats,
        maxWaiting: bound.maxWaiting,
      });
      this.fail(job, error, 'exhausted');
      return promise;
    }
    this.enqueue(job, false);
    return promise;
  }

  /** A ready channel for a quick RPC (health ping), without taking it from the lane. */
  anyReadyChannel(): PooledChannel | undefined {
    for (const lc of this.channels) if (!lc.dead && !lc.pc.slot.blocked) return lc.pc;
    return undefined;
  }

  stats(): PublisherLaneStats {
    return {
      channels: this.channels.length,
      inFlight: this.inFlight(),
      waiting: this.queue.length,
    };
  }

  /** Stops taking publishes, waits for in-flight confirms until `deadlineAt` (clock time), then hands channels back. */
  async drain(deadlineAt: number): Promise<LaneDrainReport> {
    if (this.state === 'open') this.state = 'closing';
    while (!this.isIdle() && this.clock.now() < deadlineAt) {
      await new Promise<void>((resolve) => {
        const timer = this.clock.setTimeout(resolve, Math.max(1, deadlineAt - this.clock.now()));
        timer.unref?.();
        this.idleWaiters.push(() => {
          this.clock.clearTimeout(timer);
          resolve();
        });
      });
    }
    const report = {
      unconfirmedAtDeadline: this.stats().inFlight,
      waitingAtDeadline: this.queue.length,
    };
    this.close();
    return report;
  }

  /**
   * Pumps waiting publishes onto ready channels, and asks again for the channels the lane lacks.
   * For whoever learns that channels may have become usable without a confirm or a new channel
   * telling the lane: a connection unblocked or back up.
   */
  wake(): void {
    if (this.state === 'closed' || this.queue.length === 0) return;
    this.pump();
    this.replenish();
  }

  /** Rejects waiting publishes and hands every channel back. In-flight ones fail when their channel closes. */
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
      this.stopWaiting(job);
      // A waiting retry may have reached the broker on its first write: not a plain "pool closed".
      const closed = new PoolClosedError(this.deps.name, 'closed');
      this.fail(job, this.unknownOutcome(job, closed), 'closed');
    }
    const channels = [...this.channels, ...this.retiring];
    this.channels = [];
    this.retiring = [];
    for (const lc of channels) lc.release();
    this.notifyIdle();
  }

  // ---- LaneHooks (called by LaneChannel) ----

  confirmed(job: PublishJob, error: Error | null, from: LaneChannel): void {
    if (error === null) {
      if (job.returned) return this.fail(job, job.returned, 'unroutable');
      job.settled = true;
      if (this.timed) this.deps.metrics.publishSeconds((this.clock.now() - job.startedAt) / 1000);
      job.trace?.end(job);
      job.resolve();
      return;
    }
    if (isNack(error)) {
      return this.fail(
        job,
        new PublishRejectedError(job.exchange, job.routingKey, job.messageId),
        'nack',
      );
    }
    const reason = from.pc.closeReason;
    const culprit = causedClose(reason, job);
    if (culprit === true && reason !== undefined) {
      const code = (reason as Error & { code?: unknown }).code;
      const failure = new PublishFailedError(
        job.exchange,
        job.routingKey,
        job.messageId,
        typeof code === 'number' ? code : undefined,
        reason,
      );
      return this.fail(job, failure, 'channel_error');
    }
    // A sibling publish made the broker close this channel: this one is innocent and keeps its retry
    // (every such close fails its culprit for good, so innocents cannot loop).
    if (culprit === false) job.attempts--;
    // No channel-level close from the broker: the connection went, and its sibling channels go with it.
    if (typeof (reason as { code?: unknown } | undefined)?.code !== 'number') {
      job.avoid = { slot: from.pc.slot, generation: from.pc.connectionGeneration };
    }
    this.retryOrFail(job, reason ?? error);
  }

  notWritten(job: PublishJob, error: unknown): void {
    // Not written at all: this attempt does not count against the one retry.
    job.attempts--;
    this.retryOrFail(job, error);
  }

  invalid(job: PublishJob, error: unknown): void {
    job.attempts--;
    this.fail(job, this.unknownOutcome(job, error), 'invalid');
  }

  timedOut(job: PublishJob): void {
    this.fail(job, new ConfirmTimeoutError(this.confirmTimeoutMs, job.messageId), 'timeout');
  }

  capacity(from: LaneChannel): void {
    if (from.retiring) {
      if (from.inFlight === 0) this.dropRetired(from);
      return;
    }
    if (this.queue.length > 0) this.pump();
    else if (this.idleWaiters.length > 0 && this.isIdle()) this.notifyIdle();
  }

  died(from: LaneChannel, reason: Error | undefined): void {
    const i = this.channels.indexOf(from);
    if (i >= 0) this.channels.splice(i, 1);
    const r = this.retiring.indexOf(from);
    if (r >= 0) this.retiring.splice(r, 1);
    this.deps.logger.warn('publishing channel closed; replacing it', {
      pool: this.deps.name,
      inFlight: from.inFlight,
      reason: reason ? errorMessage(reason) : 'connection lost',
    });
    // Its lease ends now; the pool retired the channel before telling us, so the release destroys it.
    from.release();
    this.replenish();
  }

  // ---- internals ----

  /** Writes `job` on `lc`; traced jobs are written inside their span, so an instrumentation's span nests under it. */
  private write(lc: LaneChannel, job: PublishJob): void {
    const trace = job.trace;
    if (trace === undefined) lc.send(job);
    else runInContext(trace.beforeWrite(job, lc.pc.channel), () => lc.send(job));
  }

  /** Pool and lane counters when a traced publish starts waiting (span event attributes). */
  private waitSnapshot(): Attributes {
    const pool = this.deps.poolStats();
    const lane = this.stats();
    return {
      ...poolStatsAttributes(this.deps.name, pool),
      'mq.pool.waiting': this.deps.waitBound.waiting,
      'mq.publisher.channels': lane.channels,
      'mq.publisher.in_flight': lane.inFlight,
    };
  }

  private pick(avoid?: PublishJob['avoid']): LaneChannel | undefined {
    let best: LaneChannel | undefined;
    for (const lc of this.channels) {
      if (!lc.ready || (best !== undefined && lc.inFlight >= best.inFlight)) continue;
      if (
        avoid !== undefined &&
        lc.pc.slot === avoid.slot &&
        lc.pc.connectionGeneration === avoid.generation
      )
        continue;
      best = lc;
    }
    return best;
  }

  private retryOrFail(job: PublishJob, cause: unknown): void {
    if (job.settled) return;
    if (job.attempts >= 2 || this.state === 'closed') {
      this.fail(
        job,
        new PublishUnconfirmedError(job.messageId, job.attempts, cause),
        'channel_closed',
      );
      return;
    }
    const lc = this.queue.length === 0 ? this.pick(job.avoid) : undefined;
    if (lc === undefined) return this.enqueue(job, true);
    this.write(lc, job);
    this.replenish();
  }

  /** Queues `job` until its deadline; a retry goes in front (it had its turn once already). */
  private enqueue(job: PublishJob, front: boolean): void {
    // The queue holds the process open while anyone waits: a publish settles at its deadline at worst.
    if (front) this.queue.unshift(job);
    else this.queue.push(job);
    job.trace?.waiting(this.waitSnapshot());
    job.queuedAt = this.clock.now();
    job.waitTimer = this.clock.setTimeout(() => this.expire(job), Math.max(1, job.waitLeftMs));
    job.waitTimer.unref?.();
    if (job.signal) {
      const signal = job.signal;
      job.onAbort = () => {
        if (!job.queued) return;
        this.leaveQueue(job);
        this.fail(job, this.unknownOutcome(job, signal.reason), 'aborted');
      };
      signal.addEventListener('abort', job.onAbort, { once: true });
    }
    this.replenish();
  }

  private expire(job: PublishJob): void {
    job.waitTimer = undefined;
    if (!job.queued) return;
    // The counters as they were while it waited, itself included.
    const stats = { ...this.deps.poolStats(), waiting: this.deps.waitBound.waiting };
    this.leaveQueue(job);
    const cause = this.deps.lastFailure() ?? this.lastAcquireError;
    const timeout = new AcquireTimeoutError({
      pool: this.deps.name,
      timeoutMs: job.timeoutMs,
      stats,
      cause,
    });
    this.fail(job, this.unknownOutcome(job, timeout), 'no_channel');
  }

  /**
   * The error for a publish that stops waiting for a channel. A retry that was written before (its
   * channel died unconfirmed) may have reached the broker: say so, rather than a plain timeout or
   * abort that reads as "never sent".
   */
  private unknownOutcome(job: PublishJob, error: unknown): unknown {
    return job.written
      ? new PublishUnconfirmedError(job.messageId, Math.max(1, job.attempts), error)
      : error;
  }

  /** A queued job stops waiting before its turn (expired, aborted). */
  private leaveQueue(job: PublishJob): void {
    this.queue.remove(job);
    this.stopWaiting(job);
  }

  /** Ends a job's wait: its deadline timer and abort listener go, and the time it waited is spent. */
  private stopWaiting(job: PublishJob): void {
    if (job.waitTimer !== undefined) this.clock.clearTimeout(job.waitTimer);
    job.waitTimer = undefined;
    if (job.onAbort) job.signal?.removeEventListener('abort', job.onAbort);
    job.onAbort = undefined;
    job.waitLeftMs -= this.clock.now() - job.queuedAt;
  }

  /** Writes queued publishes, oldest first, while a ready channel takes them. */
  private pump(): void {
    for (let job = this.queue.peek(); job !== undefined; job = this.queue.peek()) {
      const lc = this.pick(job.avoid);
      if (!lc) return this.replenish();
      this.queue.shift();
      this.stopWaiting(job);
      this.write(lc, job);
    }
    if (this.idleWaiters.length > 0 && this.isIdle()) this.notifyIdle();
  }

  private fail(
    job: PublishJob,
    error: unknown,
    reason: Parameters<RabbitMqMetricsRecorder['publishError']>[0],
  ): void {
    if (job.settled) return;
    job.settled = true;
    this.deps.metrics.publishError(reason);
    job.trace?.end(job, error, reason);
    job.reject(error);
    if (this.idleWaiters.length > 0 && this.isIdle()) this.notifyIdle();
  }

  private replenish(): void {
    // While draining, channels that die are not replaced: the pool hands out nothing new.
    if (this.state !== 'open') return;
    while (this.channels.length + this.acquiring < this.deps.publishChannels) {
      this.acquiring++;
      void this.acquireOne();
    }
  }

  private async acquireOne(): Promise<void> {
    let lease: Lease<PooledChannel>;
    try {
      lease = await this.deps.acquire({ timeoutMs: this.deps.acquireTimeoutMs });
    } catch (error) {
      this.acquiring--;
      this.lastAcquireError = error;
      // No backoff of the lane's own (the connection slots own reconnect timing). A request that
      // waited its whole timeout in the pool is asked again at once while publishes wait: that is
      // one request per acquireTimeoutMs, never a tight loop. A refusal that came at once waits for
      // the next publish or wake() (a connection up or unblocked).
      if (error instanceof AcquireTimeoutError && this.queue.length > 0) this.replenish();
      return;
    }
    this.acquiring--;
    if (this.state === 'closed') {
      lease.release();
      return;
    }
    this.lastAcquireError = undefined;
    if (lease.resource.closed) {
      // It closed between the pool's hand-over and now (its retire already ran): the release
      // destroys it; keeping it would leave a dead LaneChannel counted among the lane's channels.
      lease.release();
      this.replenish();
      return;
    }
    this.addChannel(lease);
    this.pump();
  }

  /** Publishes the lane can write without anyone's confirm arriving first. */
  private servable(): number {
    return Math.max(0, this.deps.publishChannels * this.maxInFlight - this.inFlight());
  }

  private inFlight(): number {
    let inFlight = 0;
    for (const lc of this.channels) inFlight += lc.inFlight;
    for (const lc of this.retiring) inFlight += lc.inFlight;
    return inFlight;
  }

  private isIdle(): boolean {
    if (this.queue.length > 0) return false;
    for (const lc of this.channels) if (lc.inFlight > 0) return false;
    for (const lc of this.retiring) if (lc.inFlight > 0) return false;
    return true;
  }

  private addChannel(lease: Lease<PooledChannel>): void {
    const lc = new LaneChannel(lease, this);
    this.channels.push(lc);
    if (this.deps.rotateAfterMs > 0) {
      lc.rotateTimer = this.clock.setTimeout(() => {
        lc.rotateTimer = undefined;
        this.rotate(lc);
      }, this.deps.rotateAfterMs);
      lc.rotateTimer.unref?.();
    }
  }

  /** Swaps a long-held publishing channel for a fresh lease without failing anything in flight. */
  private rotate(lc: LaneChannel): void {
    if (this.state !== 'open' || lc.dead) return;
    const i = this.channels.indexOf(lc);
    if (i < 0) return;
    this.channels.splice(i, 1);
    lc.retiring = true;
    if (lc.inFlight === 0) lc.release();
    else this.retiring.push(lc);
    this.replenish();
  }

  private dropRetired(lc: LaneChannel): void {
    const i = this.retiring.indexOf(lc);
    if (i >= 0) this.retiring.splice(i, 1);
    lc.release();
    if (this.idleWaiters.length > 0 && this.isIdle()) this.notifyIdle();
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

import type { Clock, TimerHandle } from './clock.js';
import { CoarseClock } from './coarse-clock.js';
import { CreateCircuit } from './create-circuit.js';
import { BorrowValidation } from './borrow-validation.js';
import { type DrainablePool, PoolDrain } from './pool-drain.js';
import { invalidDurationArgument, isDuration } from './duration-argument.js';
import { AcquireTimeoutError } from './errors/acquire-timeout.error.js';
import { PoolClosedError } from './errors/pool-closed.error.js';
import { PoolExhaustedError } from './errors/pool-exhausted.error.js';
import { PoolInvariantError } from './errors/pool-invariant.error.js';
import { type Lease, type LeaseOwner, PoolLease } from './lease.js';
import type { AcquisitionSite } from './acquisition-site.js';
import {
  type LeakDetector,
  missingLeakSite,
  NO_LEAK_DETECTOR,
  TimedLeakDetector,
} from './leak-detector.js';
import type { MqLogger } from './logger.js';
import { guardRecorder } from './guard-recorder.js';
import { NOOP_POOL_METRICS, type PoolMetricsRecorder } from './metrics-recorder.js';
import { PendingAcquire, type WaiterOwner } from './pending-acquire.js';
import type { DestroyReason, PoolEvents } from './pool-events.js';
import type { PoolOptions, ResolvedPoolOptions } from './pool-options.js';
import type { DrainReport, PoolStats } from './pool-stats.js';
import { PooledResource, ResourceState } from './pooled-resource.js';
import { resolvePoolOptions } from './resolve-pool-options.js';
import { checkResourceFactory, type ResourceFactory } from './resource-factory.js';
import { TypedEmitter } from './typed-emitter.js';
import { WaitBound } from './wait-bound.js';
import { WaiterQueue } from './waiter-queue.js';

/** Options of one `acquire()` call. */
export interface AcquireOptions {
  /** Cancels the wait: the promise rejects with `signal.reason`. */
  signal?: AbortSignal;
  /** Overrides `acquireTimeoutMs` for this call. */
  timeoutMs?: number;
}

const PoolState = { Open: 0, Draining: 1, Closed: 2 } as const;
type PoolState = (typeof PoolState)[keyof typeof PoolState];

/**
 * A bounded pool of resources made by a `ResourceFactory<T>`. Framework- and broker-free.
 *
 * Resource states, transitions and invariants: see `pooled-resource.ts`.
 *
 * Shape:
 * - Every event (acquire, release, create done/failed, destroy, validation done, timers) ends in
 *   `dispatch()`, the one pump that hands idle resources to waiters in FIFO order and starts the
 *   creations the demand (waiters, `min`) calls for, within `max` and the backoff.
 * - Hot path: an acquire that finds an idle resource and no queue allocates one lease and one
 *   resolved promise; no timer, no closure, no real clock read (see `CoarseClock`). A caller that
 *   has to wait gets a `PendingAcquire`; waiters on the default timeout share one pool timer.
 * - Creation failures back off exponentially with full jitter, one probe at a time while
 *   failing; waiters fail at their deadline with `AcquireTimeoutError` whose `cause` is the last
 *   creation error; `failFastAfterCreateFailures` is opt-in.
 *
 * This file keeps what runs on every acquire and release (the hot path, the hand-over, the pump,
 * the idle stack) together, so V8 can inline it; each cold concept has a file of its own:
 * `create-circuit.ts` (creation failures: backoff, timeout cause, fail-fast),
 * `borrow-validation.ts` (validate-on-borrow runs), `pool-drain.ts` (drain phases and report),
 * `leak-detector.ts`, `pending-acquire.ts` + `waiter-queue.ts` (waiters), `lease.ts`,
 * `resolve-pool-options.ts` (options).
 */
export class Pool<T> {
  readonly name: string;
  readonly options: ResolvedPoolOptions;

  private readonly factory: ResourceFactory<T>;
  private readonly validateFn: ((resource: T) => Promise<boolean> | boolean) | undefined;
  private readonly clock: Clock;
  private readonly time: CoarseClock;
  private readonly logger: MqLogger;
  private readonly metrics: PoolMetricsRecorder;
  /** A recorder is set: only then is a waiter's wait worth timing. */
  private readonly timedWaits: boolean;
  private readonly events: TypedEmitter<PoolEvents<T>>;
  private readonly leakDetector: LeakDetector;
  /** What leases and waiters may call back into; keeps those hooks off the public surface. */
  private readonly owner: LeaseOwner<T> & WaiterOwner<T>;
  // Hot option values, copied out of the frozen options object.
  private readonly max: number;
  private readonly acquireTimeoutMs: number;
  private readonly validateAfterIdleMs: number;

  private state: PoolState = PoolState.Open;
  /** IDLE resources, a stack: top = most recently released (I5). */
  private readonly idle: PooledResource<T>[] = [];
  /** Every resource not yet DESTROYED, by identity (for `retire()`). */
  private readonly all = new Map<T, PooledResource<T>>();
  private readonly waiters = new WaiterQueue<PendingAcquire<T>>();
  /**
   * @internal `maxWaiting`, over this pool's waiters and those of clients that queue callers of
   * their own (`join` their queue): one number bounds them all.
   */
  readonly waitBound: WaitBound;
  private readonly validation: BorrowValidation<T>;
  private leasedCount = 0;
  private validatingCount = 0;
  private creatingCount = 0;
  private leakCount = 0;

  /** Creation failures, their backoff and the fail-fast policy. */
  private readonly circuit: CreateCircuit;
  private readonly createAbort = new AbortController();

  private backoffTimer: TimerHandle | undefined = undefined;
  private deadlineTimer: TimerHandle | undefined = undefined;
  private idleTimer: TimerHandle | undefined = undefined;

  private dispatching = false;
  private dispatchAgain = false;

  private drainRun: PoolDrain | undefined = undefined;
  /** Set while a drain waits: called after each step that may end its wait. */
  private onDrainProgress: (() => void) | undefined = undefined;
  private drainDestroyed = 0;
  private readonly pendingDestroys = new Set<Promise<void>>();

  private readonly onBackoffTimer = (): void => {
    this.backoffTimer = undefined;
    this.dispatch();
  };
  private readonly onDeadlineTimer = (): void => this.expireDefaultWaiters();
  private readonly onIdleTimer = (): void => this.evictIdle();

  constructor(factory: ResourceFactory<T>, options: PoolOptions) {
    const resolved = resolvePoolOptions(options);
    checkResourceFactory(factory);
    this.options = resolved;
    this.name = resolved.name;
    this.factory = factory;
    this.validateFn = factory.validate === undefined ? undefined : factory.validate.bind(factory);
    this.max = resolved.max;
    this.waitBound = new WaitBound(resolved.maxWaiting);
    this.waitBound.join(this.waiters);
    this.acquireTimeoutMs = resolved.acquireTimeoutMs;
    this.validateAfterIdleMs = resolved.validateAfterIdleMs;
    this.circuit = new CreateCircuit(
      resolved.failFastAfterCreateFailures,
      resolved.createBackoff,
      resolved.random,
    );
    this.clock = resolved.clock;
    this.time = new CoarseClock(resolved.clock);
    this.logger = resolved.logger;
    this.metrics = guardRecorder(resolved.metrics, NOOP_POOL_METRICS, (method, error) =>
      this.logger.error(`pool "${this.name}": metrics recorder ${method}() threw; ignored`, {
        error,
      }),
    );
    this.timedWaits = this.metrics !== NOOP_POOL_METRICS;
    this.events = new TypedEmitter<PoolEvents<T>>(this.logger, `pool "${this.name}"`);
    this.validation = new BorrowValidation<T>(
      this.validateFn ?? (() => true),
      this.clock,
      this.time,
      this.acquireTimeoutMs,
      (entry, waiter, ok, error) => this.validated(entry, waiter, ok, error),
      (where, error) => this.internalError(where, error),
    );
    this.owner = {
      name: this.name,
      releaseLease: (lease) => this.releaseLease(lease),
      destroyLease: (lease, reason) => this.destroyLease(lease, reason),
      abortWaiter: (waiter) => this.abortWaiter(waiter),
      expireWaiter: (waiter) => this.expireWaiter(waiter),
    };
    this.leakDetector =
      resolved.leakDetectionMs > 0
        ? new TimedLeakDetector(
            resolved.leakDetectionMs,
            resolved.captureLeakSite,
            Pool.prototype.acquire,
            () => this.all.values() as Iterable<PooledResource<unknown>>,
            this.time,
            this.clock,
            (entry, heldMs) => this.reportLeak(entry as PooledResource<T>, heldMs),
          )
        : NO_LEAK_DETECTOR;
    // Warm up to `min`.
    this.dispatch();
  }

  // ---------------------------------------------------------------- public API

  /**
   * A lease on one resource: at once when one is idle, else after waiting in FIFO order. Rejects
   * with `AcquireTimeoutError` at the deadline, `PoolExhaustedError` when the queue is full,
   * `PoolClosedError` once draining, or `signal.reason` when aborted.
   */
  acquire(options?: AcquireOptions): Promise<Lease<T>> {
    const site = this.leakDetector.captureSite();
    // Hot path: no queue to respect and an idle resource fresh enough to skip validation.
    if (this.waiters.length === 0 && this.state === PoolState.Open) {
      const last = this.idle.length - 1;
      if (last >= 0) {
        const entry = this.idle[last]!;
        if (
          (this.validateFn === undefined ||
            this.time.now() - entry.idleSince < this.validateAfterIdleMs) &&
          (options === undefined || fastPathAllows(options))
        ) {
          this.idle.pop();
          return Promise.resolve(this.leaseOut(entry, site, 0));
        }
      }
    }
    return this.acquireSlow(options, site, true);
  }

  /**
   * @internal An acquire by a client that queues callers of its own in `waitBound` (the RabbitMQ
   * publisher lane, for a channel its queued publishes will use): those callers are counted
   * already, so this request is never refused for `maxWaiting`. Otherwise as `acquire()`.
   */
  acquireForQueue(options?: AcquireOptions): Promise<Lease<T>> {
    return this.acquireSlow(options, this.leakDetector.captureSite(), false);
  }

  /**
   * The adapter learnt that creations can succeed again (its connection is back): the creation
   * backoff ends and waiters get creates at once, instead of after a delay that whatever owns the
   * adapter's reconnects has already paid. Failures seen so far stay the `cause` of waits that
   * time out.
   */
  resetCreateBackoff(): void {
    if (this.state !== PoolState.Open || this.circuit.failures === 0) return;
    this.circuit.reset();
    if (this.backoffTimer !== undefined) {
      this.clock.clearTimeout(this.backoffTimer);
      this.backoffTimer = undefined;
    }
    this.dispatch();
  }

  /**
   * An adapter found `resource` dead (e.g. its connection dropped): an idle one is destroyed now
   * (and replaced if there is demand); a leased or validating one is destroyed when it comes back.
   * Unknown or already destroyed resources are ignored.
   */
  retire(resource: T, reason?: unknown): void {
    const entry = this.all.get(resource);
    if (entry === undefined) return;
    if (entry.state === ResourceState.Idle) {
      this.removeIdle(entry);
      void this.destroyEntry(entry, 'retired', reason);
      this.dispatch();
    } else {
      entry.retireReason ??= 'retired';
    }
  }

  /** Counters, O(1). */
  stats(): PoolStats {
    const idle = this.idle.length;
    return {
      max: this.max,
      size: idle + this.leasedCount + this.validatingCount + this.creatingCount,
      idle,
      leased: this.leasedCount,
      creating: this.creatingCount,
      validating: this.validatingCount,
      waiting: this.waiters.length,
      leaks: this.leakCount,
      draining: this.state === PoolState.Draining,
      closed: this.state === PoolState.Closed,
    };
  }

  /**
   * Graceful shutdown: new acquires fail with `PoolClosedError`, waiters are rejected, idle
   * resources destroyed; leases are awaited up to `deadlineMs` (default `drainTimeoutMs`), then
   * revoked and their resources destroyed. Resolves with a report once every `factory.destroy()`
   * settled or the deadline passed. Idempotent: later calls return the same report.
   */
  drain(deadlineMs: number = this.options.drainTimeoutMs): Promise<DrainReport> {
    if (this.drainRun === undefined) {
      const invalid = invalidDurationArgument('deadlineMs', deadlineMs, true, '10000');
      if (invalid !== undefined) return Promise.reject(invalid);
      this.drainRun = new PoolDrain(this.drainable(), deadlineMs, deadlineMs);
    }
    return this.drainRun.report;
  }

  /**
   * Immediate shutdown: like `drain(0)` (leases revoked at once), then waits for the
   * `factory.destroy()` calls, at most `drainTimeoutMs`. Cuts short a drain in progress.
   */
  async close(): Promise<void> {
    if (this.drainRun === undefined)
      this.drainRun = new PoolDrain(this.drainable(), 0, this.options.drainTimeoutMs);
    else this.drainRun.forceDeadline();
    await this.drainRun.report;
  }

  on<K extends keyof PoolEvents<T>>(event: K, listener: (payload: PoolEvents<T>[K]) => void): this {
    this.events.on(event, listener);
    return this;
  }

  off<K extends keyof PoolEvents<T>>(
    event: K,
    listener: (payload: PoolEvents<T>[K]) => void,
  ): this {
    this.events.off(event, listener);
    return this;
  }

  // ------------------------------------------------------- lease / waiter hooks

  /** Called by `PoolLease.release()`, once per lease. */
  private releaseLease(lease: PoolLease<T>): void {
    // The hot path is kept small so that V8 inlines it and what it calls; the rest is out of line.
    const entry = this.detachLease(lease, 'released');
    if (entry.retireReason !== undefined || this.state !== PoolState.Open)
      return this.destroyReleased(entry);
    entry.moveTo(ResourceState.Idle);
    // Same size, so no new demand for creations: only a waiter can want this resource.
    if (this.waiters.length === 0) this.pushIdle(entry);
    else this.serveReleased(entry);
  }

  /** A released resource that must not be reused (retired, expired, or the pool is draining). */
  private destroyReleased(entry: PooledResource<T>): void {
    void this.destroyEntry(entry, entry.retireReason ?? 'drain');
    this.dispatch();
  }

  /** A released resource while callers wait. */
  private serveReleased(entry: PooledResource<T>): void {
    if (this.validateFn === undefined || this.validateAfterIdleMs > 0) {
      // A saturated pool's common case: straight to the oldest waiter, which is what the pump
      // would do after a trip through the idle stack (a resource idle 0 ms needs no validation).
      this.handOver(entry, this.waiters.shift()!);
      return;
    }
    this.pushIdle(entry);
    this.dispatch();
  }

  /** Called by `PoolLease.destroy()`, once per lease. */
  private destroyLease(lease: PoolLease<T>, reason: unknown): Promise<void> {
    const entry = this.detachLease(lease, 'destroyed');
    const destroyed = this.destroyEntry(entry, 'broken', reason);
    this.dispatch();
    return destroyed;
  }

  /** Ends `lease`'s hold on its resource: the common first step of release and destroy. */
  private detachLease(lease: PoolLease<T>, verb: 'released' | 'destroyed'): PooledResource<T> {
    const entry = lease.entry;
    if (entry.lease !== lease) foreignLease(entry, verb);
    entry.lease = undefined;
    this.leasedCount--;
    return entry;
  }

  /** AbortSignal of a waiter fired. */
  private abortWaiter(waiter: PendingAcquire<T>): void {
    if (waiter.settled) return;
    this.dropWaiter(waiter);
    this.metrics.acquireFailed('aborted');
    waiter.fail(waiter.signal?.reason);
    this.dispatch();
  }

  /** The deadline of a waiter passed. */
  private expireWaiter(waiter: PendingAcquire<T>): void {
    if (waiter.settled) return;
    const stats = this.stats();
    this.dropWaiter(waiter);
    const cause = this.circuit.causeFor(waiter.createFailuresAtEnqueue);
    this.metrics.acquireFailed('timeout');
    waiter.fail(
      new AcquireTimeoutError({ pool: this.name, timeoutMs: waiter.timeoutMs, stats, cause }),
    );
  }

  // ------------------------------------------------------------- acquire path

  private acquireSlow(
    options: AcquireOptions | undefined,
    site: AcquisitionSite | undefined,
    bounded: boolean,
  ): Promise<Lease<T>> {
    if (this.state !== PoolState.Open) {
      this.metrics.acquireFailed('closed');
      return Promise.reject(
        new PoolClosedError(this.name, this.state === PoolState.Draining ? 'draining' : 'closed'),
      );
    }
    const signal = options?.signal;
    if (signal?.aborted) {
      this.metrics.acquireFailed('aborted');
      return Promise.reject(signal.reason);
    }
    let timeoutMs = this.acquireTimeoutMs;
    if (options?.timeoutMs !== undefined) {
      const t = options.timeoutMs;
      const invalid = invalidDurationArgument(
        'timeoutMs',
        t,
        false,
        '{ timeoutMs: 5000 } or omit it',
      );
      if (invalid !== undefined) return Promise.reject(invalid);
      timeoutMs = t;
    }
    const live = this.idle.length + this.leasedCount + this.validatingCount;
    if (this.circuit.failingFast(live)) {
      const stats = this.stats();
      this.metrics.acquireFailed('exhausted');
      return Promise.reject(this.circuit.exhaustedError(this.name, stats, this.time.exact()));
    }
    // Callers the pool can serve without anyone releasing: idle ones, free slots, creates in flight.
    const servable = this.idle.length + this.max - live;
    if (bounded && this.waitBound.isFull(servable)) {
      const stats = { ...this.stats(), waiting: this.waitBound.waiting };
      this.metrics.acquireFailed('exhausted');
      return Promise.reject(
        new PoolExhaustedError({
          pool: this.name,
          reason: 'maxWaiting',
          stats,
          maxWaiting: this.waitBound.maxWaiting,
        }),
      );
    }

    // The cached reading (see CoarseClock): a real one here costs ~80 ns per waiting acquire, a third
    // of a saturated acquire+release. Trade-off, documented on acquireTimeoutMs: a wait that starts
    // late in a long synchronous run can end early by up to that run's length; never late.
    const now = this.time.now();
    const isDefault = timeoutMs === this.acquireTimeoutMs;
    const waiter = new PendingAcquire<T>(
      this.owner,
      timeoutMs,
      now,
      now + timeoutMs,
      isDefault,
      signal,
      site,
      this.circuit.sequence,
    );
    this.waiters.push(waiter);
    if (isDefault) {
      // FIFO order is deadline order for these: one timer, for the oldest.
      if (this.deadlineTimer === undefined) this.armDeadlineTimer(waiter.deadline, now);
    } else {
      waiter.timer = this.clock.setTimeout(waiter.ownTimerCallback(), timeoutMs);
    }
    // The pump can act only on an idle resource or a free slot; a saturated pool (the common
    // reason to be here) skips it.
    if (this.idle.length !== 0 || live + this.creatingCount < this.max) this.dispatch();
    return waiter.promise;
  }

  private leaseOut(
    entry: PooledResource<T>,
    site: AcquisitionSite | undefined,
    waitSeconds: number,
  ): PoolLease<T> {
    entry.moveTo(ResourceState.Leased);
    this.leasedCount++;
    const lease = new PoolLease<T>(this.owner, entry, site);
    entry.lease = lease;
    this.leakDetector.track(entry);
    this.metrics.acquired(waitSeconds);
    return lease;
  }

  private handOver(entry: PooledResource<T>, waiter: PendingAcquire<T>): void {
    if (waiter.settled)
      throw new PoolInvariantError(
        `pool "${this.name}": a resource was handed to a caller that already gave up`,
      );
    if (waiter.timer !== undefined) this.clearWaiterTimer(waiter);
    // A wait in seconds is a fractional number, a heap allocation: made only for a recorder.
    const waitSeconds = this.timedWaits ? (this.time.now() - waiter.enqueuedAt) / 1000 : 0;
    waiter.fulfil(this.leaseOut(entry, waiter.site, waitSeconds));
  }

  private dropWaiter(waiter: PendingAcquire<T>): void {
    this.waiters.remove(waiter);
    this.clearWaiterTimer(waiter);
  }

  private clearWaiterTimer(waiter: PendingAcquire<T>): void {
    if (waiter.timer !== undefined) {
      this.clock.clearTimeout(waiter.timer);
      waiter.timer = undefined;
    }
  }

  private armDeadlineTimer(due: number, now: number): void {
    this.deadlineTimer = this.clock.setTimeout(
      this.onDeadlineTimer,
      Math.max(1, Math.ceil(due - now)),
    );
  }

  /** The shared deadline timer fired: expire the default-timeout waiters that are due, oldest first. */
  private expireDefaultWaiters(): void {
    this.deadlineTimer = undefined;
    if (this.state !== PoolState.Open) return;
    const now = this.time.exact();
    const due: PendingAcquire<T>[] = [];
    this.waiters.scan((waiter) => {
      if (!waiter.usesPoolTimer) return true;
      if (waiter.deadline > now) {
        this.armDeadlineTimer(waiter.deadline, now);
        return false;
      }
      due.push(waiter);
      return true;
    });
    for (const waiter of due) this.expireWaiter(waiter);
    this.dispatch();
  }

  // ------------------------------------------------------------------- pump

  /**
   * The one pump. Hands idle resources to waiters (FIFO), then starts the creations that the
   * demand calls for. Re-entrant calls (from listeners or factory code) are folded into a loop.
   */
  private dispatch(): void {
    if (this.dispatching) {
      this.dispatchAgain = true;
      return;
    }
    this.dispatching = true;
    try {
      do {
        this.dispatchAgain = false;
        this.serveWaiters();
        this.startCreates();
      } while (this.dispatchAgain);
    } finally {
      this.dispatching = false;
    }
    if (this.onDrainProgress !== undefined) this.onDrainProgress();
  }

  private serveWaiters(): void {
    while (this.waiters.length > 0 && this.idle.length > 0 && this.state === PoolState.Open) {
      const waiter = this.waiters.shift()!;
      const entry = this.idle.pop()!;
      if (
        this.validateFn !== undefined &&
        this.time.now() - entry.idleSince >= this.validateAfterIdleMs
      ) {
        this.validatingCount++;
        this.validation.start(entry, waiter);
      } else {
        this.handOver(entry, waiter);
      }
    }
  }

  private startCreates(): void {
    const max = this.max;
    const min = this.options.min;
    const idle = this.idle.length;
    const size = idle + this.leasedCount + this.validatingCount + this.creatingCount;
    if (size >= max || this.state !== PoolState.Open) return;
    let wanted = Math.max(this.waiters.length - idle - this.creatingCount, min - size);
    // While failing fast with nothing left, keep probing even if nobody waits: it is the only way back.
    if (
      wanted < 1 &&
      this.creatingCount === 0 &&
      this.circuit.failingFast(size - this.creatingCount)
    )
      wanted = 1;
    wanted = Math.min(wanted, max - size);
    if (wanted <= 0) return;
    if (this.circuit.failures > 0) {
      // Failing: one probe at a time, after the backoff delay.
      if (this.creatingCount > 0) return;
      const wait = this.circuit.nextAttemptAt - this.time.exact();
      if (wait > 0) {
        if (this.backoffTimer === undefined)
          this.backoffTimer = this.clock.setTimeout(this.onBackoffTimer, Math.ceil(wait));
        return;
      }
      wanted = 1;
    }
    for (let i = 0; i < wanted; i++) this.startCreate();
  }

  // ---------------------------------------------------------------- creation

  private startCreate(): void {
    this.creatingCount++;
    let pending: Promise<T>;
    try {
      pending = Promise.resolve(this.factory.create(this.createAbort.signal));
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending
      .then(
        (resource) => this.onCreated(resource),
        (error: unknown) => this.onCreateFailed(error),
      )
      .catch((error: unknown) => this.internalError('create', error));
  }

  /** A bug surfaced in a promise callback: logged, never an unhandled rejection. */
  private internalError(where: string, error: unknown): void {
    this.logger.error(`pool "${this.name}": internal error after ${where}`, { error });
  }

  private onCreated(resource: T): void {
    if (this.all.has(resource)) {
      // Never destroy it: it is in use. Count the attempt as failed.
      this.onCreateFailed(
        new PoolInvariantError(
          `pool "${this.name}": factory.create() returned a resource already in the pool`,
        ),
      );
      return;
    }
    this.creatingCount--;
    this.circuit.succeeded();
    const entry = new PooledResource(resource, this.time.now());
    this.all.set(resource, entry);
    if (this.state !== PoolState.Open) {
      void this.destroyEntry(entry, 'drain');
      this.dispatch();
      return;
    }
    const { maxLifetimeMs, lifetimeJitter, random } = this.options;
    if (maxLifetimeMs > 0) {
      const lifetime = Math.max(1, maxLifetimeMs * (1 - lifetimeJitter * random()));
      entry.lifetimeTimer = this.clock.setTimeout(() => this.expire(entry), lifetime);
    }
    this.pushIdle(entry);
    this.events.emit('created', { resource });
    this.dispatch();
  }

  private onCreateFailed(error: unknown): void {
    this.creatingCount--;
    const retryInMs = this.circuit.failed(error, this.time.exact());
    if (this.state === PoolState.Open) {
      this.logger.warn(
        `pool "${this.name}": creating a resource failed (attempt ${this.circuit.failures}); retrying in ${retryInMs}ms`,
        {
          error,
        },
      );
      this.events.emit('createError', { error, attempt: this.circuit.failures, retryInMs });
    }
    this.dispatch();
  }

  // -------------------------------------------------------- idle and eviction

  private pushIdle(entry: PooledResource<T>): void {
    entry.idleSince = this.time.now();
    this.idle.push(entry);
    if (this.idleTimer === undefined) this.armIdleTimer();
  }

  private removeIdle(entry: PooledResource<T>): void {
    const index = this.idle.lastIndexOf(entry);
    if (index === -1)
      throw new PoolInvariantError(`resource #${entry.id} is IDLE but not in the idle stack`);
    this.idle.splice(index, 1);
  }

  /** One timer for the resource idle longest (bottom of the stack), armed only when eviction can apply. */
  private armIdleTimer(): void {
    const { idleTimeoutMs, min } = this.options;
    if (idleTimeoutMs === 0 || this.state !== PoolState.Open || this.idle.length === 0) return;
    if (this.idle.length + this.leasedCount + this.validatingCount + this.creatingCount <= min)
      return;
    const due = this.idle[0]!.idleSince + idleTimeoutMs;
    this.idleTimer = this.clock.setTimeout(
      this.onIdleTimer,
      Math.max(1, Math.ceil(due - this.time.now())),
    );
  }

  private evictIdle(): void {
    this.idleTimer = undefined;
    if (this.state !== PoolState.Open) return;
    const { idleTimeoutMs, min } = this.options;
    const now = this.time.exact();
    while (this.idle.length > 0) {
      const size = this.idle.length + this.leasedCount + this.validatingCount + this.creatingCount;
      const oldest = this.idle[0]!;
      if (size <= min || now - oldest.idleSince < idleTimeoutMs) break;
      this.idle.shift();
      void this.destroyEntry(oldest, 'idle');
    }
    this.armIdleTimer();
    this.dispatch();
  }

  private expire(entry: PooledResource<T>): void {
    entry.lifetimeTimer = undefined;
    if (entry.state === ResourceState.Idle) {
      this.removeIdle(entry);
      void this.destroyEntry(entry, 'expired');
      this.dispatch();
    } else if (entry.state !== ResourceState.Destroyed) {
      entry.retireReason ??= 'expired';
    }
  }

  // --------------------------------------------------------------- validation

  /** A validation of `entry` for `waiter` ended (see `borrow-validation.ts`). */
  private validated(
    entry: PooledResource<T>,
    waiter: PendingAcquire<T>,
    ok: boolean,
    error: unknown,
  ): void {
    this.validatingCount--;
    if (ok && entry.retireReason === undefined && this.state === PoolState.Open) {
      if (!waiter.settled) {
        this.handOver(entry, waiter);
      } else {
        // Its caller gave up meanwhile: the resource goes back, never orphaned.
        entry.moveTo(ResourceState.Idle);
        this.pushIdle(entry);
      }
    } else {
      if (!ok)
        this.logger.debug(
          `pool "${this.name}": resource #${entry.id} failed validation; destroying it`,
          { error },
        );
      void this.destroyEntry(entry, ok ? (entry.retireReason ?? 'drain') : 'invalid', error);
      // Its caller was first in line: it keeps its turn (with its own timer). A drain started
      // meanwhile (by a listener of the destroy above, say) could not see it: reject it here.
      if (!waiter.settled) {
        if (this.state === PoolState.Open) this.waiters.unshift(waiter);
        else this.rejectClosed(waiter);
      }
    }
    this.dispatch();
  }

  // ------------------------------------------------------------- destruction

  /** The single way out of the pool (I4): DESTROYED once, `factory.destroy()` once. Never rejects. */
  private destroyEntry(
    entry: PooledResource<T>,
    reason: DestroyReason,
    error?: unknown,
  ): Promise<void> {
    entry.moveTo(ResourceState.Destroyed);
    this.all.delete(entry.resource);
    if (entry.lifetimeTimer !== undefined) {
      this.clock.clearTimeout(entry.lifetimeTimer);
      entry.lifetimeTimer = undefined;
    }
    if (this.state !== PoolState.Open) this.drainDestroyed++;
    let destroying: Promise<void>;
    try {
      destroying = Promise.resolve(this.factory.destroy(entry.resource));
    } catch (thrown) {
      destroying = Promise.reject(thrown);
    }
    const settled = destroying.then(
      () => undefined,
      (destroyError: unknown) =>
        this.logger.warn(`pool "${this.name}": destroying resource #${entry.id} failed; dropped`, {
          error: destroyError,
        }),
    );
    this.pendingDestroys.add(settled);
    void settled.then(() => {
      this.pendingDestroys.delete(settled);
      if (this.onDrainProgress !== undefined) this.onDrainProgress();
    });
    if (this.events.hasListeners('destroyed')) {
      this.events.emit(
        'destroyed',
        error === undefined
          ? { resource: entry.resource, reason }
          : { resource: entry.resource, reason, error },
      );
    }
    return settled;
  }

  // ---------------------------------------------------------------- leaks

  private reportLeak(entry: PooledResource<T>, heldMs: number): void {
    this.leakCount++;
    this.metrics.leak();
    const site = entry.lease?.site?.describe();
    this.logger.warn(
      `pool "${this.name}": a lease has been held for ${Math.round(heldMs)}ms (leakDetectionMs=${this.options.leakDetectionMs}); was it released?`,
      { heldMs, site: site ?? missingLeakSite(this.options.captureLeakSite) },
    );
    this.events.emit('leak', { resource: entry.resource, heldMs, site, leaks: this.leakCount });
  }

  // ---------------------------------------------------------------- drain

  /** The pool as its drain sees it (see `pool-drain.ts`). */
  private drainable(): DrainablePool {
    return {
      name: this.name,
      logger: this.logger,
      clock: this.clock,
      time: this.time,
      stats: () => this.stats(),
      stopTakingWork: () => this.stopTakingWork(),
      outstanding: () => this.leasedCount + this.validatingCount + this.creatingCount,
      revokeAll: () => this.revokeEverything(),
      destroysPending: () => this.pendingDestroys.size,
      destroyedSinceDrain: () => this.drainDestroyed,
      onProgress: (hook) => {
        this.onDrainProgress = hook;
      },
      closed: () => {
        this.state = PoolState.Closed;
        this.clearPoolTimers();
        this.leakDetector.stop();
        this.time.stop();
      },
      drained: (report) => this.events.emit('drained', report),
    };
  }

  /** A drain's first step: acquires fail from now on, and nothing idle or waiting remains. */
  private stopTakingWork(): void {
    this.state = PoolState.Draining;
    this.clearPoolTimers();
    this.createAbort.abort(new PoolClosedError(this.name, 'draining'));
    for (let waiter = this.waiters.shift(); waiter !== undefined; waiter = this.waiters.shift())
      this.rejectClosed(waiter);
    for (const waiter of this.validation.waiters()) if (!waiter.settled) this.rejectClosed(waiter);
    while (this.idle.length > 0) void this.destroyEntry(this.idle.pop()!, 'drain');
  }

  private rejectClosed(waiter: PendingAcquire<T>): void {
    this.dropWaiter(waiter);
    this.metrics.acquireFailed('closed');
    waiter.fail(new PoolClosedError(this.name, 'draining'));
  }

  /**
   * Drain deadline passed: leases are revoked and their resources destroyed under their holders.
   * Returns how many leases were revoked.
   */
  private revokeEverything(): number {
    const leased = this.leasedCount;
    for (const entry of [...this.all.values()]) {
      if (entry.state === ResourceState.Leased) {
        const lease = entry.lease!;
        lease.revoke();
        entry.lease = undefined;
        this.leasedCount--;
        void this.destroyEntry(entry, 'drain');
      }
    }
    for (const entry of this.validation.abandonAll()) {
      this.validatingCount--;
      void this.destroyEntry(entry, 'drain');
    }
    // Creations still in flight are destroyed when (if) they resolve.
    return leased;
  }

  private clearPoolTimers(): void {
    for (const timer of [this.backoffTimer, this.deadlineTimer, this.idleTimer]) {
      if (timer !== undefined) this.clock.clearTimeout(timer);
    }
    this.backoffTimer = this.deadlineTimer = this.idleTimer = undefined;
  }
}

/**
 * Whether an acquire with these options may take the hot path. A bad per-call `timeoutMs` takes
 * the slow path, which rejects it: never unnoticed. Out of line: it keeps `acquire()` small.
 */
function fastPathAllows(options: AcquireOptions): boolean {
  return (
    (options.timeoutMs === undefined || isDuration(options.timeoutMs, false)) &&
    (options.signal === undefined || !options.signal.aborted)
  );
}

function foreignLease(entry: PooledResource<unknown>, verb: 'released' | 'destroyed'): never {
  throw new PoolInvariantError(`resource #${entry.id} ${verb} by a lease that does not hold it`);
}

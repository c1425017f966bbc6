import type { TimerHandle } from './clock.js';
import type { Lease } from './lease.js';
import type { AcquisitionSite } from './acquisition-site.js';
import { pendingPromise, type Settlers } from './settlers.js';

const unsettled = (): void => undefined;

/** What a waiter needs from its pool. */
export interface WaiterOwner<T> {
  /** The waiter's AbortSignal fired. */
  abortWaiter(waiter: PendingAcquire<T>): void;
  /** The waiter's own deadline timer fired. */
  expireWaiter(waiter: PendingAcquire<T>): void;
}

/**
 * One caller waiting in `acquire()`: its deferred promise, its deadline (and own timer when it
 * has one), its abort subscription, and what it needs to explain a timeout. It settles exactly
 * once; every later settle is ignored, so a late resource can never be handed to a caller that
 * already gave up (the pool checks `settled` and keeps the resource).
 */
export class PendingAcquire<T> implements Settlers<Lease<T>> {
  readonly promise: Promise<Lease<T>>;
  settled = false;
  /** In the pool's FIFO queue (see waiter-queue.ts). */
  queued = false;
  /**
   * Waiters on the default timeout share one pool timer (FIFO order is also deadline order);
   * others, and waiters pulled out of the queue for validation, get their own `timer`.
   */
  usesPoolTimer: boolean;
  timer: TimerHandle | undefined = undefined;
  resolve: (lease: Lease<T>) => void = unsettled;
  reject: (reason: unknown) => void = unsettled;

  constructor(
    private readonly owner: WaiterOwner<T>,
    readonly timeoutMs: number,
    readonly enqueuedAt: number,
    readonly deadline: number,
    defaultTimeout: boolean,
    readonly signal: AbortSignal | undefined,
    readonly site: AcquisitionSite | undefined,
    /** The pool's creation-failure count when this waiter arrived: tells whether a failure is this wait's likely cause. */
    readonly createFailuresAtEnqueue: number,
  ) {
    this.promise = pendingPromise(this);
    this.usesPoolTimer = defaultTimeout;
    // No `{ once: true }`: settling removes the listener anyway, and the option costs per waiter.
    if (signal !== undefined) signal.addEventListener('abort', this);
  }

  /** AbortSignal listener (an object listener: no closure per waiter). */
  handleEvent(): void {
    this.owner.abortWaiter(this);
  }

  /** Callback of the waiter's own deadline timer (created only for waiters that need one). */
  ownTimerCallback(): () => void {
    return () => {
      this.timer = undefined;
      this.owner.expireWaiter(this);
    };
  }

  fulfil(lease: Lease<T>): void {
    this.finish();
    this.resolve(lease);
  }

  fail(error: unknown): void {
    this.finish();
    this.reject(error);
  }

  private finish(): void {
    this.settled = true;
    if (this.signal !== undefined) this.signal.removeEventListener('abort', this);
  }
}

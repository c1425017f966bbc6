import type { Clock, TimerHandle } from './clock.js';
import type { CoarseClock } from './coarse-clock.js';
import type { PendingAcquire } from './pending-acquire.js';
import { type PooledResource, ResourceState } from './pooled-resource.js';

/** A validate-on-borrow in flight: the resource, the waiter it is for, and its guard timer. */
interface ValidationRun<T> {
  readonly entry: PooledResource<T>;
  readonly waiter: PendingAcquire<T>;
  timer: TimerHandle | undefined;
  done: boolean;
}

/** How a validation ended; `error` is what `validate()` threw or why it was given up. */
export type ValidationDone<T> = (
  entry: PooledResource<T>,
  waiter: PendingAcquire<T>,
  ok: boolean,
  error: unknown,
) => void;

/**
 * Validate-on-borrow: a resource that idled past `validateAfterIdleMs` is checked with
 * `factory.validate()` before its waiter gets it (the pool decides when; this runs the checks).
 * A check may answer synchronously, asynchronously, throw, or never settle: each run ends exactly
 * once, through `done`, and one that outlives `limitMs` (the acquire timeout) counts as failed so
 * it cannot hold a slot forever. What happens next (hand over, destroy, requeue) is the pool's.
 */
export class BorrowValidation<T> {
  private readonly runs = new Set<ValidationRun<T>>();

  constructor(
    private readonly validate: (resource: T) => Promise<boolean> | boolean,
    private readonly clock: Clock,
    private readonly time: CoarseClock,
    private readonly limitMs: number,
    private readonly done: ValidationDone<T>,
    private readonly internalError: (where: string, error: unknown) => void,
  ) {}

  /** Validates `entry` (IDLE) for `waiter`, which has left the queue. */
  start(entry: PooledResource<T>, waiter: PendingAcquire<T>): void {
    entry.moveTo(ResourceState.Validating);
    // Out of the queue, the waiter no longer sits under the shared deadline timer.
    if (waiter.usesPoolTimer) {
      waiter.usesPoolTimer = false;
      waiter.timer = this.clock.setTimeout(
        waiter.ownTimerCallback(),
        Math.max(1, Math.ceil(waiter.deadline - this.time.now())),
      );
    }
    const run: ValidationRun<T> = { entry, waiter, timer: undefined, done: false };
    let result: Promise<boolean> | boolean;
    try {
      result = this.validate(entry.resource);
    } catch (error) {
      this.finish(run, false, error);
      return;
    }
    if (typeof result === 'boolean') {
      this.finish(run, result, undefined);
      return;
    }
    this.runs.add(run);
    const limitMs = this.limitMs;
    run.timer = this.clock.setTimeout(
      () => this.finish(run, false, new Error(`validate() did not settle within ${limitMs}ms`)),
      limitMs,
    );
    Promise.resolve(result)
      .then(
        (ok) => this.finish(run, ok === true, undefined),
        (error: unknown) => this.finish(run, false, error),
      )
      .catch((error: unknown) => this.internalError('validate', error));
  }

  /** The callers of validations in flight (a drain rejects those still waiting). */
  *waiters(): Iterable<PendingAcquire<T>> {
    for (const run of this.runs) yield run.waiter;
  }

  /**
   * Gives up every validation in flight without calling `done` (a drain past its deadline): their
   * late outcomes are ignored. Returns their resources, still VALIDATING, for the pool to destroy.
   */
  abandonAll(): PooledResource<T>[] {
    const entries: PooledResource<T>[] = [];
    for (const run of this.runs) {
      run.done = true;
      if (run.timer !== undefined) this.clock.clearTimeout(run.timer);
      entries.push(run.entry);
    }
    this.runs.clear();
    return entries;
  }

  private finish(run: ValidationRun<T>, ok: boolean, error: unknown): void {
    if (run.done) return;
    run.done = true;
    this.runs.delete(run);
    if (run.timer !== undefined) this.clock.clearTimeout(run.timer);
    this.done(run.entry, run.waiter, ok, error);
  }
}

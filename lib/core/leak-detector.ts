import type { Clock, TimerHandle } from './clock.js';
import type { CoarseClock } from './coarse-clock.js';
import type { LeakSiteCapture } from './pool-options.js';
import { AcquisitionSite } from './acquisition-site.js';
import type { PooledResource } from './pooled-resource.js';

/**
 * Watches leased resources for being held too long. The pool calls it on every acquire, so when
 * leak detection is off it uses `NO_LEAK_DETECTOR`, a null object with empty methods, and the hot
 * path carries no `if`.
 */
export interface LeakDetector {
  /** Called inside `acquire()`; a stack is captured only when detection and site capture are on. */
  captureSite(): AcquisitionSite | undefined;
  /** The resource was just leased. */
  track<T>(entry: PooledResource<T>): void;
  stop(): void;
}

export const NO_LEAK_DETECTOR: LeakDetector = Object.freeze({
  captureSite: () => undefined,
  track: () => undefined,
  stop: () => undefined,
});

type Boundary = (...args: never[]) => unknown;

/**
 * Reports each lease held longer than `thresholdMs`, once, with at most one timer for the pool.
 *
 * Cheap on the hot path: a lease only stamps its resource (`leasedAt`) and a release does nothing
 * at all. The one timer is armed for the oldest lease's deadline; when it fires it looks at the
 * resources leased now (at most `max` of them), reports those past the threshold (oldest first,
 * each lease once: `leakReported` holds the lease last reported) and re-arms for the oldest lease
 * left. A lease taken later is due later, so the timer is never late; one released meanwhile just
 * makes it fire with nothing to report. About one scan of the leased resources per threshold.
 *
 * Sites: with `'afterFirstLeak'` no stack is captured until the first report, and every acquire
 * captures one after it (see `PoolOptions.captureLeakSite`): the hot path reads one field either way.
 */
export class TimedLeakDetector implements LeakDetector {
  private timer: TimerHandle | undefined = undefined;
  private stopped = false;
  /** Whether `captureSite()` records a stack now. */
  private capturing: boolean;
  private readonly captureAfterFirstLeak: boolean;
  private readonly fire = (): void => this.onTimer();

  constructor(
    private readonly thresholdMs: number,
    captureLeakSite: LeakSiteCapture,
    /** Frames above and including this function are left out of the captured site. */
    private readonly boundary: Boundary,
    /** The pool's resources; the detector looks at those leased. */
    private readonly resources: () => Iterable<PooledResource<unknown>>,
    private readonly coarse: CoarseClock,
    private readonly clock: Clock,
    private readonly onLeak: (entry: PooledResource<unknown>, heldMs: number) => void,
  ) {
    this.capturing = captureLeakSite === true;
    this.captureAfterFirstLeak = captureLeakSite === 'afterFirstLeak';
  }

  // captureSite() and track() run on every acquire: each holds only its common case, so that V8
  // inlines them into the pool's hot path (see "Small hot functions" in docs/ARCHITECTURE.md).
  captureSite(): AcquisitionSite | undefined {
    return this.capturing ? this.capture() : undefined;
  }

  track<T>(entry: PooledResource<T>): void {
    entry.leasedAt = this.coarse.now();
    if (this.timer === undefined) this.armForFirstLease();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private capture(): AcquisitionSite {
    const site = new AcquisitionSite();
    Error.captureStackTrace(site, this.boundary);
    return site;
  }

  private armForFirstLease(): void {
    if (!this.stopped) this.arm(this.thresholdMs);
  }

  private arm(delayMs: number): void {
    this.timer = this.clock.setTimeout(this.fire, Math.max(1, Math.ceil(delayMs)));
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.coarse.exact();
    const due: PooledResource<unknown>[] = [];
    let oldestLeft = Infinity;
    for (const entry of this.resources()) {
      const lease = entry.lease;
      if (lease === undefined || entry.leakReported === lease) continue;
      if (now - entry.leasedAt >= this.thresholdMs) due.push(entry);
      else if (entry.leasedAt < oldestLeft) oldestLeft = entry.leasedAt;
    }
    due.sort((a, b) => a.leasedAt - b.leasedAt);
    for (const entry of due) {
      // Listeners run in between: skip a lease that ended meanwhile.
      if (entry.lease === undefined || this.stopped) continue;
      entry.leakReported = entry.lease;
      if (this.captureAfterFirstLeak) this.capturing = true;
      this.onLeak(entry, now - entry.leasedAt);
    }
    if (oldestLeft !== Infinity && this.timer === undefined && !this.stopped)
      this.arm(oldestLeft + this.thresholdMs - now);
  }
}

/** Why a leak report names no acquisition site, and how to get one. */
export function missingLeakSite(capture: LeakSiteCapture): string {
  return capture === false
    ? "not recorded: set captureLeakSite: true (or 'afterFirstLeak') to record where leases are acquired"
    : 'not recorded: this lease was acquired before the pool reported its first leak ' +
        "(captureLeakSite: 'afterFirstLeak'); acquires record their site from now on, so the next " +
        'leak report of this code path names it. captureLeakSite: true records every site from the start';
}

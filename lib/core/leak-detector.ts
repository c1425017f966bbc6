import type { Clock, TimerHandle } from './clock.js';
import type { CoarseClock } from './coarse-clock.js';
import type { LeakSiteCapture } from './pool-options.js';
import { AcquisitionSite } from './acquisition-site.js';
import type { PooledResource } from './pooled-resource.js';

/**
 * Watches leased resources for being held too long. The pool calls it on every acquire and
 * release, so when leak detection is off it uses `NO_LEAK_DETECTOR`, a null object with empty
 * methods, and the hot path carries no `if`.
 */
export interface LeakDetector {
  /** Called inside `acquire()`; a stack is captured only when detection and site capture are on. */
  captureSite(): AcquisitionSite | undefined;
  /** The resource was just leased. */
  track<T>(entry: PooledResource<T>): void;
  /** Its lease ended. */
  untrack<T>(entry: PooledResource<T>): void;
  stop(): void;
}

export const NO_LEAK_DETECTOR: LeakDetector = Object.freeze({
  captureSite: () => undefined,
  track: () => undefined,
  untrack: () => undefined,
  stop: () => undefined,
});

type Boundary = (...args: never[]) => unknown;

/**
 * Reports each lease held longer than `thresholdMs`, once, with at most one timer for the pool.
 *
 * All leases share one threshold, so ordering them by lease time also orders their deadlines:
 * leased resources form an intrusive doubly linked list in lease order (O(1) track and untrack),
 * and one timer waits for the head. When it fires, every head past the threshold is reported and
 * unlinked, and the timer is re-armed for the new head. A release never touches the timer: a
 * timer that finds its lease gone just re-arms for the current head.
 *
 * Sites: with `'afterFirstLeak'` no stack is captured until the first report, and every acquire
 * captures one after it (see `PoolOptions.captureLeakSite`): the hot path reads one field either way.
 */
export class TimedLeakDetector implements LeakDetector {
  private head: PooledResource<unknown> | undefined = undefined;
  private tail: PooledResource<unknown> | undefined = undefined;
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
    private readonly coarse: CoarseClock,
    private readonly clock: Clock,
    private readonly onLeak: (entry: PooledResource<unknown>, heldMs: number) => void,
  ) {
    this.capturing = captureLeakSite === true;
    this.captureAfterFirstLeak = captureLeakSite === 'afterFirstLeak';
  }

  captureSite(): AcquisitionSite | undefined {
    if (!this.capturing) return undefined;
    const site = new AcquisitionSite();
    Error.captureStackTrace(site, this.boundary);
    return site;
  }

  track<T>(entry: PooledResource<T>): void {
    if (this.stopped) return;
    const node = entry as PooledResource<unknown>;
    node.leasedAt = this.coarse.now();
    node.leakTracked = true;
    node.leakPrev = this.tail;
    node.leakNext = undefined;
    if (this.tail === undefined) this.head = node;
    else this.tail.leakNext = node;
    this.tail = node;
    if (this.timer === undefined) this.arm(this.thresholdMs);
  }

  untrack<T>(entry: PooledResource<T>): void {
    const node = entry as PooledResource<unknown>;
    if (!node.leakTracked) return;
    node.leakTracked = false;
    const { leakPrev: prev, leakNext: next } = node;
    if (prev === undefined) this.head = next;
    else prev.leakNext = next;
    if (next === undefined) this.tail = prev;
    else next.leakPrev = prev;
    node.leakPrev = node.leakNext = undefined;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.head = this.tail = undefined;
  }

  private arm(delayMs: number): void {
    this.timer = this.clock.setTimeout(this.fire, Math.max(1, Math.ceil(delayMs)));
  }

  private onTimer(): void {
    this.timer = undefined;
    if (this.stopped) return;
    const now = this.coarse.exact();
    let entry = this.head;
    while (entry !== undefined && now - entry.leasedAt >= this.thresholdMs) {
      // Unlinked once reported: one report per lease.
      this.untrack(entry);
      if (this.captureAfterFirstLeak) this.capturing = true;
      this.onLeak(entry, now - entry.leasedAt);
      entry = this.head;
    }
    if (entry !== undefined) this.arm(entry.leasedAt + this.thresholdMs - now);
  }
}

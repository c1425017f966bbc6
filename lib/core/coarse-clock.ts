import type { Clock, TimerHandle } from './clock.js';

/**
 * A cached reading of a `Clock`, refreshed at most once per `resolutionMs`.
 *
 * Why: the pool needs the time on every acquire and release (idle age for validate-on-borrow and
 * idle eviction, leak timestamps, waiter deadlines), and a real clock read costs 25-100 ns, as
 * much as the rest of an acquire. A read arms one refresh timer; until it fires, reads return
 * the cached value. So a busy pool reads the real clock at most once per `resolutionMs` (plus once
 * per event-loop turn that runs longer), and an idle pool arms no timer at all.
 *
 * Readings are whole milliseconds since the clock was made: small integers, which V8 stores
 * unboxed (a fractional time stored in a new object's field costs a heap allocation).
 *
 * Precision: a cached value lags real time by less than `resolutionMs` (+1 ms of rounding), or
 * by the length of the current synchronous run when the event loop is busy. Timer callbacks that
 * decide an expiry read `exact()`.
 */
export class CoarseClock {
  private cached = 0;
  private fresh = false;
  private timer: TimerHandle | undefined;
  private stopped = false;
  private readonly expire = (): void => {
    this.timer = undefined;
    this.fresh = false;
  };

  private readonly origin: number;

  constructor(
    private readonly source: Clock,
    private readonly resolutionMs = 1,
  ) {
    this.origin = source.now();
  }

  now(): number {
    if (this.fresh) return this.cached;
    return this.refresh();
  }

  /** A real reading (also refreshes the cache). */
  exact(): number {
    const value = Math.floor(this.source.now() - this.origin);
    this.cached = value;
    return value;
  }

  /** Cancels the refresh timer; later reads go to the source clock. */
  stop(): void {
    this.stopped = true;
    this.fresh = false;
    if (this.timer !== undefined) {
      this.source.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private refresh(): number {
    const value = Math.floor(this.source.now() - this.origin);
    this.cached = value;
    if (!this.stopped) {
      this.fresh = true;
      this.timer = this.source.setTimeout(this.expire, this.resolutionMs);
    }
    return value;
  }
}

import type { Clock, TimerHandle } from '../../../../lib/core/clock.js';

class FakeTimer implements TimerHandle {
  unrefed = false;
  constructor(
    readonly id: number,
    readonly due: number,
    readonly fn: () => void,
    readonly ms: number,
  ) {}
  unref(): this {
    this.unrefed = true;
    return this;
  }
}

/** Lets the macrotask queue run once: every pending promise callback settles first. */
export const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Deterministic time for pool tests. Timers fire in due order (ties in creation order) only when
 * the test advances time; `tick()` also lets promise callbacks run between timers, as real time would.
 */
export class FakeClock implements Clock {
  private current = 0;
  private seq = 0;
  private readonly timers = new Map<number, FakeTimer>();

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = new FakeTimer(++this.seq, this.current + Math.max(0, ms), fn, ms);
    this.timers.set(timer.id, timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete((handle as FakeTimer).id);
  }

  /** Timers not yet fired or cleared, soonest first. */
  pendingTimers(): { due: number; ms: number }[] {
    return [...this.timers.values()]
      .sort((a, b) => a.due - b.due || a.id - b.id)
      .map((t) => ({ due: t.due, ms: t.ms }));
  }

  /** Pending timers longer than `minMs` (the pool's 1 ms clock-cache refresh is left out by default). */
  pendingCount(minMs = 1): number {
    return [...this.timers.values()].filter((t) => t.ms > minMs).length;
  }

  /** Moves time forward by `ms` without firing anything: a long synchronous run that delays timers. */
  stall(ms: number): void {
    this.current += ms;
  }

  /** Moves time forward by `ms`, firing due timers in order, flushing promise callbacks after each. */
  async tick(ms: number): Promise<void> {
    const target = this.current + ms;
    await flush();
    for (;;) {
      const next = this.nextDue(target);
      if (next === undefined) break;
      // A timer made late by `stall()` fires at the current time: time never runs backwards.
      this.current = Math.max(this.current, next.due);
      this.timers.delete(next.id);
      next.fn();
      await flush();
    }
    this.current = target;
    await flush();
  }

  private nextDue(limit: number): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers.values()) {
      if (
        t.due <= limit &&
        (best === undefined || t.due < best.due || (t.due === best.due && t.id < best.id))
      )
        best = t;
    }
    return best;
  }
}

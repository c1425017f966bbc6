import type { Clock } from '../../../../lib/core/clock.js';

/** A clock whose `now()` moves only on `advance()`, with real timers: for code that reads time, not waits. */
export function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  return {
    now: () => now,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    advance: (ms) => {
      now += ms;
    },
  };
}

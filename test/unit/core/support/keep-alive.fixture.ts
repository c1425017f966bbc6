// Run by pool-drain.spec.ts in a child process: sets up a pool with every kind of timer armed on
// the real clock, then returns. The process must exit by itself: all pool timers are unref()ed.
// With the argument `waiting`, a caller also waits in the queue: that wait is an awaited
// operation, so the process stays until it settles (at its deadline), then exits.
import { Pool } from '../../../../lib/core/index.js';

let failing = false;
const pool = new Pool<object>(
  {
    create: async () => {
      if (failing) throw new Error('ECONNREFUSED');
      return {};
    },
    destroy: async () => undefined,
  },
  {
    max: 2,
    min: 1,
    idleTimeoutMs: 60_000,
    maxLifetimeMs: 3_600_000,
    leakDetectionMs: 600_000,
    acquireTimeoutMs: 600_000,
  },
);
const held = await pool.acquire(); // leak timer, lifetime timer
const second = await pool.acquire();
const spare = second.resource;
second.release(); // idle timer
failing = true;
pool.retire(spare); // its replacement for min fails: backoff timer
await new Promise((resolve) => setTimeout(resolve, 10));
void held;
console.log('set up');
if (process.argv[2] === 'waiting') {
  const started = performance.now();
  void pool.acquire({ timeoutMs: 1_000 }).catch((e: unknown) => {
    console.log(
      `waiter settled: ${(e as Error).name} after ${Math.round(performance.now() - started)}ms`,
    );
  });
}

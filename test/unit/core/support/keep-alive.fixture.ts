// Run by pool-drain.spec.ts in a child process: sets up a pool with every kind of timer armed on
// the real clock, then returns. The process must exit by itself: all pool timers are unref()ed.
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
void pool.acquire().catch(() => undefined); // a waiter: deadline timer
void pool.acquire({ timeoutMs: 500_000 }).catch(() => undefined); // its own deadline timer
void held;
console.log('set up');

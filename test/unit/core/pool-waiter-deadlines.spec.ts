import { describe, expect, it } from 'vitest';

import { SYSTEM_CLOCK } from '../../../lib/core/clock.js';
import { Pool } from '../../../lib/core/pool.js';
import { makePool } from './support/make-pool.js';
import { TestFactory } from './support/test-factory.js';

describe('Pool: waiters that time out while nobody is served', () => {
  it('are dropped from the queue, not kept until someone is served', async () => {
    // Every create fails: nobody is ever served, callers keep arriving and timing out.
    const factory = new TestFactory();
    factory.failForever();
    const { pool, clock } = makePool({ max: 1, acquireTimeoutMs: 200 }, factory);
    const queue = (pool as unknown as { waiters: { items: unknown[] } }).waiters;
    for (let ms = 0; ms < 8_000; ms++) {
      void pool.acquire().catch(() => undefined);
      await clock.tick(1);
    }
    expect(pool.stats().waiting).toBeLessThanOrEqual(201);
    // 8,000 waiters came and went: the queue holds about the live ones, not all of them.
    expect(queue.items.length).toBeLessThan(2_500);
    await pool.close();
  });
});

describe('Pool: waiter deadlines on real time', () => {
  it('are never late, and early at most by the synchronous run the wait started in (documented)', async () => {
    // Everything up to the timed acquire is one synchronous run (awaits of settled promises do not
    // yield to timers): the clock the pool caches may be read anywhere in it.
    const runStarted = performance.now();
    const pool = new Pool(new TestFactory(), {
      max: 1,
      acquireTimeoutMs: 300,
      clock: SYSTEM_CLOCK,
    });
    const held = await pool.acquire();
    void pool.acquire({ timeoutMs: 10_000 }).catch(() => undefined); // reads (caches) the clock
    const blockMs = 200;
    const until = performance.now() + blockMs;
    while (performance.now() < until) {
      /* a long synchronous run */
    }
    const started = performance.now();
    const waited = await pool.acquire().then(
      () => -1,
      () => performance.now() - started,
    );
    // Early by at most the run before it (>= blockMs; more when the OS preempted this process).
    expect(waited).toBeGreaterThanOrEqual(300 - (started - runStarted) - 5);
    expect(started - runStarted).toBeGreaterThanOrEqual(blockMs);
    expect(waited).toBeLessThan(300 + 100);
    held.release();
    await pool.close();
  });
});

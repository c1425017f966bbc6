import { describe, expect, it } from 'vitest';

import { InvalidPoolOptionsError } from '../../../lib/core/errors/invalid-pool-options.error.js';
import { PoolClosedError } from '../../../lib/core/errors/pool-closed.error.js';
import { Pool } from '../../../lib/core/pool.js';
import { SYSTEM_CLOCK } from '../../../lib/core/clock.js';
import { makePool } from './support/make-pool.js';
import { TestFactory } from './support/test-factory.js';

/** Cases found by a review of the core: each failed before its fix. */
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

describe('Pool: a drain started while a validation fails', () => {
  it('rejects the waiter of that validation with PoolClosedError and leaves no timer', async () => {
    const factory = new TestFactory(true);
    const { pool, clock } = makePool(
      { max: 1, acquireTimeoutMs: 5_000, validateAfterIdleMs: 100, idleTimeoutMs: 0 },
      factory,
    );
    (await pool.acquire()).release();
    await clock.tick(200); // the idle resource now needs validation
    factory.isValid = () => false;
    let drained: Promise<unknown> | undefined;
    pool.on('destroyed', () => {
      drained ??= pool.drain(1_000);
    });
    const outcome = pool.acquire().then(
      () => 'leased',
      (e: unknown) => e,
    );
    await clock.tick(10);
    await drained;
    expect(await outcome).toBeInstanceOf(PoolClosedError);
    expect(clock.pendingTimers()).toEqual([]);
  });
});

describe('Pool: a per-call timeoutMs', () => {
  it('is validated even when an idle resource would serve the call at once', async () => {
    const { pool } = makePool({ max: 1 });
    (await pool.acquire()).release();
    await expect(pool.acquire({ timeoutMs: -5 })).rejects.toBeInstanceOf(InvalidPoolOptionsError);
    const lease = await pool.acquire({ timeoutMs: 50 });
    lease.release();
    await pool.close();
  });
});

describe('Pool: waiter deadlines on real time', () => {
  it('are never late, and early at most by the synchronous run the wait started in (documented)', async () => {
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
    expect(waited).toBeGreaterThanOrEqual(300 - blockMs - 5);
    expect(waited).toBeLessThan(300 + 100);
    held.release();
    await pool.close();
  });
});

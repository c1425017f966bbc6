import { describe, expect, it } from 'vitest';

import type { PoolMetricsRecorder } from '../../../lib/core/metrics-recorder.js';
import type { PoolEvents } from '../../../lib/core/pool-events.js';
import type { TestResource } from './support/test-factory.js';
import { makePool } from './support/make-pool.js';

type LeakEvent = PoolEvents<TestResource>['leak'];

function countingMetrics(): PoolMetricsRecorder & { leaks: number } {
  const m = {
    leaks: 0,
    acquired: () => undefined,
    acquireFailed: () => undefined,
    leak: () => void m.leaks++,
  };
  return m;
}

/** Counts `Error.captureStackTrace` calls until `restore()`. */
function countStackCaptures(): { count: number; restore(): void } {
  const original = Error.captureStackTrace;
  const counter = {
    count: 0,
    restore: () => void (Error.captureStackTrace = original),
  };
  Error.captureStackTrace = (...args: Parameters<typeof original>) => {
    counter.count++;
    original(...args);
  };
  return counter;
}

// A named function, so the site in the stack is easy to find.
async function checkoutAndForget(pool: ReturnType<typeof makePool>['pool']) {
  return pool.acquire();
}

describe('Pool leak detection', () => {
  it('emits one leak event with the acquisition site for a lease held past leakDetectionMs', async () => {
    const metrics = countingMetrics();
    const { pool, clock, logger } = makePool(
      { leakDetectionMs: 1000, captureLeakSite: true, metrics },
      undefined,
    );
    const leaks: LeakEvent[] = [];
    pool.on('leak', (e) => leaks.push(e));
    const lease = await checkoutAndForget(pool);
    await clock.tick(999);
    expect(leaks).toHaveLength(0);
    await clock.tick(1);
    expect(leaks).toHaveLength(1);
    expect(leaks[0]!.heldMs).toBe(1000);
    expect(leaks[0]!.resource).toBe(lease.resource);
    expect(leaks[0]!.site).toContain('checkoutAndForget');
    expect(leaks[0]!.site).not.toContain('Pool.acquire');
    expect(leaks[0]!.leaks).toBe(1);
    // Once per lease, however long it is held.
    await clock.tick(60_000);
    expect(leaks).toHaveLength(1);
    expect(metrics.leaks).toBe(1);
    expect(pool.stats().leaks).toBe(1);
    expect(
      logger.lines.filter((l) => l.level === 'warn' && l.message.includes('held for 1000ms')),
    ).toHaveLength(1);
  });

  it('does not report leases released in time, and reports each leaked lease once', async () => {
    const { pool, clock } = makePool({ max: 3, leakDetectionMs: 1000 });
    const leaks: LeakEvent[] = [];
    pool.on('leak', (e) => leaks.push(e));
    const a = await pool.acquire();
    await clock.tick(300);
    const b = await pool.acquire();
    await clock.tick(300);
    const c = await pool.acquire();
    a.release();
    await clock.tick(400); // a released; b held 700ms; c 400ms
    expect(leaks).toHaveLength(0);
    await clock.tick(300);
    expect(leaks.map((e) => e.resource)).toEqual([b.resource]);
    c.release();
    await clock.tick(5000);
    expect(leaks).toHaveLength(1);
  });

  it('reports leases due together oldest first, and skips one a listener released meanwhile', async () => {
    const { pool, clock } = makePool({ max: 3, leakDetectionMs: 1000 });
    const a = await pool.acquire();
    await clock.tick(1);
    const b = await pool.acquire();
    await clock.tick(1);
    const c = await pool.acquire();
    const reported: unknown[] = [];
    pool.on('leak', (e) => {
      reported.push(e.resource);
      if (e.resource === a.resource) b.release(); // handling the first report frees the second
    });
    const [ra, rc] = [a.resource, c.resource];
    // A long synchronous run delays the timer past all three deadlines: one firing reports them.
    clock.stall(1000);
    await clock.tick(0);
    expect(reported).toEqual([ra, rc]);
    expect(pool.stats().leaks).toBe(2);
  });

  it('a reused resource is tracked afresh for its new lease', async () => {
    const { pool, clock } = makePool({ max: 1, leakDetectionMs: 1000 });
    const leaks: LeakEvent[] = [];
    pool.on('leak', (e) => leaks.push(e));
    const first = await pool.acquire();
    await clock.tick(1500);
    first.release();
    await pool.acquire();
    await clock.tick(999);
    expect(leaks).toHaveLength(1);
    await clock.tick(1);
    expect(leaks).toHaveLength(2);
  });

  it('with captureLeakSite false, reports the leak without a site', async () => {
    const { pool, clock, logger } = makePool({ leakDetectionMs: 100, captureLeakSite: false });
    const leaks: LeakEvent[] = [];
    pool.on('leak', (e) => leaks.push(e));
    await pool.acquire();
    await clock.tick(100);
    expect(leaks).toHaveLength(1);
    expect(leaks[0]!.site).toBeUndefined();
    expect(logger.lines.find((l) => l.level === 'warn')!.fields!.site).toContain('captureLeakSite');
  });

  it("by default ('afterFirstLeak') captures no stack until the first leak, then names the next leak's site", async () => {
    const { pool, clock, logger } = makePool({ max: 4, leakDetectionMs: 1000 });
    const leaks: LeakEvent[] = [];
    pool.on('leak', (e) => leaks.push(e));
    const captures = countStackCaptures();
    try {
      for (let i = 0; i < 10; i++) (await pool.acquire()).release();
      expect(captures.count).toBe(0);
      await checkoutAndForget(pool);
      expect(captures.count).toBe(0);
      await clock.tick(1000);
      expect(leaks).toHaveLength(1);
      expect(leaks[0]!.site).toBeUndefined();
      const warning = logger.lines.find((l) => l.level === 'warn')!;
      expect(warning.fields!.site).toContain('from now on');
      expect(warning.fields!.site).toContain('captureLeakSite: true');

      // The same code path leaks again: this time its site is known.
      await checkoutAndForget(pool);
      expect(captures.count).toBe(1);
      await clock.tick(1000);
      expect(leaks).toHaveLength(2);
      expect(leaks[1]!.site).toContain('checkoutAndForget');
      expect(leaks[1]!.leaks).toBe(2);
      // And it stays on: every later acquire records its site.
      (await pool.acquire()).release();
      expect(captures.count).toBe(2);
    } finally {
      captures.restore();
    }
  });

  it('a lease acquired before the first leak and leaked after it is reported without a site', async () => {
    const { pool, clock, logger } = makePool({ max: 4, leakDetectionMs: 1000 });
    const leaks: LeakEvent[] = [];
    pool.on('leak', (e) => leaks.push(e));
    await pool.acquire();
    await clock.tick(500);
    await pool.acquire();
    await clock.tick(500);
    expect(leaks).toHaveLength(1);
    await clock.tick(500);
    expect(leaks).toHaveLength(2);
    expect(leaks[1]!.site).toBeUndefined();
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(2);
  });

  it('is a null object when off: no event, no timer, no stack capture', async () => {
    const { pool, clock } = makePool({ leakDetectionMs: 0, idleTimeoutMs: 0 });
    const leaks: LeakEvent[] = [];
    pool.on('leak', (e) => leaks.push(e));
    (await pool.acquire()).release();
    await clock.tick(5000);
    const captures = countStackCaptures();
    try {
      await pool.acquire();
    } finally {
      captures.restore();
    }
    expect(clock.pendingCount()).toBe(0);
    await clock.tick(10_000_000);
    expect(leaks).toHaveLength(0);
    expect(captures.count).toBe(0);
  });

  it('a leak listener that throws is logged and does not break the pool', async () => {
    const { pool, clock, logger } = makePool({ leakDetectionMs: 100 });
    pool.on('leak', () => {
      throw new Error('listener bug');
    });
    const lease = await pool.acquire();
    await clock.tick(100);
    expect(
      logger.lines.some((l) => l.level === 'error' && l.message.includes("'leak' listener threw")),
    ).toBe(true);
    lease.release();
    await expect(pool.acquire()).resolves.toBeDefined();
  });
});

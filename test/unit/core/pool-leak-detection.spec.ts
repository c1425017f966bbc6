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

// A named function, so the site in the stack is easy to find.
async function checkoutAndForget(pool: ReturnType<typeof makePool>['pool']) {
  return pool.acquire();
}

describe('Pool leak detection', () => {
  it('emits one leak event with the acquisition site for a lease held past leakDetectionMs', async () => {
    const metrics = countingMetrics();
    const { pool, clock, logger } = makePool({ leakDetectionMs: 1000, metrics }, undefined);
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

  it('is a null object when off: no event, no timer, no stack capture', async () => {
    const { pool, clock } = makePool({ leakDetectionMs: 0, idleTimeoutMs: 0 });
    const leaks: LeakEvent[] = [];
    pool.on('leak', (e) => leaks.push(e));
    (await pool.acquire()).release();
    await clock.tick(5000);
    const captured = Error.captureStackTrace;
    let captures = 0;
    Error.captureStackTrace = (...args: Parameters<typeof captured>) => {
      captures++;
      captured(...args);
    };
    try {
      await pool.acquire();
    } finally {
      Error.captureStackTrace = captured;
    }
    expect(clock.pendingCount()).toBe(0);
    await clock.tick(10_000_000);
    expect(leaks).toHaveLength(0);
    expect(captures).toBe(0);
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

import { describe, expect, it } from 'vitest';

import type { DestroyReason } from '../../../lib/core/pool-events.js';
import { flush } from './support/fake-clock.js';
import { makePool } from './support/make-pool.js';
import { observe } from './support/observe.js';
import { deferred, TestFactory } from './support/test-factory.js';

function destroyReasons(pool: ReturnType<typeof makePool>['pool']): DestroyReason[] {
  const reasons: DestroyReason[] = [];
  pool.on('destroyed', (e) => reasons.push(e.reason));
  return reasons;
}

describe('Pool validate on borrow', () => {
  it('a release to a queued caller skips validation only when validateAfterIdleMs > 0', async () => {
    for (const [validateAfterIdleMs, expectedCalls] of [
      [1000, 0],
      [0, 1],
    ] as const) {
      const factory = new TestFactory(true);
      const { pool } = makePool({ max: 1, validateAfterIdleMs }, factory);
      const first = await pool.acquire();
      const resource = first.resource;
      const second = pool.acquire({ timeoutMs: 100 });
      const third = pool.acquire();
      const calls = factory.validateCalls;
      first.release(); // straight to the oldest waiter (no trip through the idle stack) ...
      const lease = await second;
      expect(lease.resource).toBe(resource);
      expect(factory.validateCalls - calls).toBe(expectedCalls); // ... unless every borrow validates
      expect(pool.stats()).toMatchObject({ idle: 0, leased: 1, waiting: 1 });
      lease.release();
      (await third).release();
      expect(pool.stats()).toMatchObject({ idle: 1, leased: 0, waiting: 0 });
      await pool.close();
    }
  });

  it('does not validate a resource that idled less than validateAfterIdleMs', async () => {
    const factory = new TestFactory(true);
    const { pool, clock } = makePool({ validateAfterIdleMs: 1000 }, factory);
    (await pool.acquire()).release();
    await clock.tick(999);
    (await pool.acquire()).release();
    expect(factory.validateCalls).toBe(0);
  });

  it('validates a resource that idled validateAfterIdleMs or longer, and hands it out when valid', async () => {
    const factory = new TestFactory(true);
    const { pool, clock } = makePool({ validateAfterIdleMs: 1000 }, factory);
    const first = await pool.acquire();
    const resource = first.resource;
    first.release();
    await clock.tick(1000);
    const lease = await pool.acquire();
    expect(factory.validateCalls).toBe(1);
    expect(lease.resource).toBe(resource);
  });

  it('destroys a resource that fails validation and serves the caller with a new one', async () => {
    const factory = new TestFactory(true);
    const { pool, clock } = makePool({ validateAfterIdleMs: 1000 }, factory);
    const reasons = destroyReasons(pool);
    const first = await pool.acquire();
    const stale = first.resource;
    first.release();
    await clock.tick(5000);
    factory.isValid = (r) => r !== stale;
    const lease = await pool.acquire();
    expect(lease.resource).not.toBe(stale);
    expect(factory.destroyed).toEqual([stale]);
    expect(reasons).toEqual(['invalid']);
  });

  it('treats a validate() that throws or rejects as invalid', async () => {
    const factory = new TestFactory(true);
    const { pool, clock } = makePool({ max: 2, validateAfterIdleMs: 10 }, factory);
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    a.release();
    b.release();
    await clock.tick(10);
    let calls = 0;
    factory.isValid = () => {
      calls++;
      if (calls === 1) throw new Error('sync throw');
      if (calls === 2) return Promise.reject(new Error('async reject'));
      return true;
    };
    const lease = await pool.acquire();
    expect(factory.destroyed).toHaveLength(2);
    expect(factory.created).toHaveLength(3);
    expect(lease.resource).toBe(factory.created[2]);
  });

  it('a validate() that never settles is abandoned after acquireTimeoutMs and its resource destroyed', async () => {
    const factory = new TestFactory(true);
    const { pool, clock } = makePool(
      { max: 1, validateAfterIdleMs: 10, acquireTimeoutMs: 500 },
      factory,
    );
    (await pool.acquire()).release();
    await clock.tick(10);
    factory.isValid = () => new Promise<boolean>(() => undefined);
    const waiter = observe(pool.acquire());
    await clock.tick(500);
    expect(waiter.status).toBe('rejected');
    expect(factory.destroyed).toHaveLength(1);
    expect(pool.stats()).toMatchObject({ validating: 0, size: 0 });
  });

  it('a resource validated after its caller gave up goes back to idle, revalidated-fresh', async () => {
    const factory = new TestFactory(true);
    const { pool, clock } = makePool({ max: 1, validateAfterIdleMs: 10 }, factory);
    (await pool.acquire()).release();
    await clock.tick(10);
    const check = deferred<boolean>();
    factory.isValid = () => check.promise;
    const controller = new AbortController();
    const waiter = observe(pool.acquire({ signal: controller.signal }));
    await flush();
    expect(pool.stats().validating).toBe(1);
    controller.abort();
    check.resolve(true);
    await flush();
    expect(waiter.status).toBe('rejected');
    expect(pool.stats()).toMatchObject({ idle: 1, validating: 0, leased: 0 });
    (await pool.acquire()).release();
    expect(factory.validateCalls).toBe(1);
  });

  it('a validating resource keeps its slot: size never exceeds max', async () => {
    const factory = new TestFactory(true);
    const { pool, clock } = makePool({ max: 1, validateAfterIdleMs: 10 }, factory);
    (await pool.acquire()).release();
    await clock.tick(10);
    const check = deferred<boolean>();
    factory.isValid = () => check.promise;
    const first = observe(pool.acquire());
    const second = observe(pool.acquire());
    await flush();
    expect(pool.stats()).toMatchObject({ size: 1, validating: 1, waiting: 1 });
    expect(factory.createCalls).toBe(1);
    check.resolve(true);
    await flush();
    expect(first.status).toBe('fulfilled');
    expect(second.status).toBe('pending');
  });
});

describe('Pool idle timeout', () => {
  it('destroys resources idle longer than idleTimeoutMs, oldest first, down to min', async () => {
    const { pool, clock, factory } = makePool({ max: 3, min: 1, idleTimeoutMs: 1000 });
    await flush(); // min warm-up
    const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    const [a, b, c] = leases.map((l) => l.resource);
    leases[0]!.release();
    await clock.tick(400);
    leases[1]!.release();
    leases[2]!.release();
    await clock.tick(600);
    expect(factory.destroyed).toEqual([a]);
    await clock.tick(400);
    expect(factory.destroyed).toEqual([a, b]);
    await clock.tick(10_000);
    expect(factory.destroyed).toEqual([a, b]);
    expect(pool.stats()).toMatchObject({ size: 1, idle: 1 });
    expect((await pool.acquire()).resource).toBe(c);
  });

  it('a resource used again before its idle timeout is kept', async () => {
    const { pool, clock, factory } = makePool({ idleTimeoutMs: 1000 });
    const lease = await pool.acquire();
    lease.release();
    await clock.tick(900);
    (await pool.acquire()).release();
    await clock.tick(900);
    expect(factory.destroyed).toHaveLength(0);
    await clock.tick(100);
    expect(factory.destroyed).toHaveLength(1);
  });

  it('idleTimeoutMs 0 keeps idle resources forever and arms no timer', async () => {
    const { pool, clock, factory } = makePool({ idleTimeoutMs: 0 });
    (await pool.acquire()).release();
    await clock.tick(5000); // the creation-wait deadline timer fires and stops
    expect(clock.pendingCount()).toBe(0);
    await clock.tick(10_000_000);
    expect(factory.destroyed).toHaveLength(0);
  });
});

describe('Pool min warm-up', () => {
  it('creates min resources at construction and keeps them after eviction and destroy', async () => {
    const { pool, factory } = makePool({ max: 4, min: 2 });
    await flush();
    expect(pool.stats()).toMatchObject({ size: 2, idle: 2 });
    const lease = await pool.acquire();
    await lease.destroy();
    await flush();
    expect(factory.createCalls).toBe(3);
    expect(pool.stats()).toMatchObject({ size: 2, idle: 2 });
  });
});

describe('Pool max lifetime', () => {
  it('retires an idle resource at its lifetime, less a random jitter', async () => {
    // random() = 0.5 and jitter 0.2: lifetime = 10000 * (1 - 0.2 * 0.5) = 9000.
    const { pool, clock, factory } = makePool({
      maxLifetimeMs: 10_000,
      lifetimeJitter: 0.2,
      idleTimeoutMs: 0,
    });
    const reasons = destroyReasons(pool);
    (await pool.acquire()).release();
    await clock.tick(8999);
    expect(factory.destroyed).toHaveLength(0);
    await clock.tick(1);
    expect(factory.destroyed).toHaveLength(1);
    expect(reasons).toEqual(['expired']);
  });

  it('spreads expiries with jitter so resources do not all expire together', async () => {
    const draws = [0, 0.5, 1 - Number.EPSILON];
    const { pool, clock, factory } = makePool({
      max: 3,
      maxLifetimeMs: 10_000,
      lifetimeJitter: 0.3,
      idleTimeoutMs: 0,
      random: () => draws.shift() ?? 0,
    });
    const leases = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    for (const l of leases) l.release();
    const expiries: number[] = [];
    pool.on('destroyed', () => expiries.push(clock.now()));
    await clock.tick(10_000);
    expect(factory.destroyed).toHaveLength(3);
    expect(new Set(expiries).size).toBe(3);
    expect(Math.min(...expiries)).toBeGreaterThanOrEqual(7000);
  });

  it('a leased resource past its lifetime is retired on release, not under its holder', async () => {
    const { pool, clock, factory } = makePool({ max: 1, maxLifetimeMs: 1000, lifetimeJitter: 0 });
    const lease = await pool.acquire();
    await clock.tick(5000);
    expect(factory.destroyed).toHaveLength(0);
    expect(() => lease.resource).not.toThrow();
    lease.release();
    await flush();
    expect(factory.destroyed).toHaveLength(1);
    expect(pool.stats()).toMatchObject({ size: 0 });
  });

  it('a waiter queued behind an expiring resource gets a fresh replacement', async () => {
    const { pool, clock, factory } = makePool({ max: 1, maxLifetimeMs: 1000, lifetimeJitter: 0 });
    const lease = await pool.acquire();
    const old = lease.resource;
    await clock.tick(1000);
    const waiter = observe(pool.acquire());
    lease.release();
    await flush();
    expect(waiter.status).toBe('fulfilled');
    expect(waiter.value!.resource).not.toBe(old);
    expect(factory.destroyed).toEqual([old]);
  });
});

describe('Pool retire (resource found dead by an adapter)', () => {
  it('destroys an idle resource at once and replaces it for waiters or min', async () => {
    const { pool, factory } = makePool({ min: 1 });
    await flush();
    const [resource] = factory.created;
    const reasons = destroyReasons(pool);
    pool.retire(resource!, new Error('connection closed'));
    await flush();
    expect(factory.destroyed).toEqual([resource]);
    expect(reasons).toEqual(['retired']);
    expect(pool.stats()).toMatchObject({ size: 1, idle: 1 });
    expect(factory.createCalls).toBe(2);
  });

  it('destroys a leased resource only when its holder releases it', async () => {
    const { pool, factory } = makePool();
    const lease = await pool.acquire();
    pool.retire(lease.resource);
    expect(factory.destroyed).toHaveLength(0);
    expect(() => lease.resource).not.toThrow();
    lease.release();
    await flush();
    expect(factory.destroyed).toHaveLength(1);
    expect(pool.stats()).toMatchObject({ size: 0, idle: 0 });
  });

  it('destroys a resource under validation when validation ends, and serves the caller another', async () => {
    const factory = new TestFactory(true);
    const { pool, clock } = makePool({ max: 1, validateAfterIdleMs: 10 }, factory);
    (await pool.acquire()).release();
    await clock.tick(10);
    const check = deferred<boolean>();
    factory.isValid = () => check.promise;
    const waiter = observe(pool.acquire());
    await flush();
    const [old] = factory.created;
    pool.retire(old!);
    check.resolve(true);
    await flush();
    expect(factory.destroyed).toEqual([old]);
    expect(waiter.status).toBe('fulfilled');
    expect(waiter.value!.resource).not.toBe(old);
  });

  it('ignores unknown and already destroyed resources', async () => {
    const { pool, factory } = makePool();
    const lease = await pool.acquire();
    const resource = lease.resource;
    await lease.destroy();
    pool.retire(resource);
    pool.retire({ id: 999 });
    expect(factory.destroyed).toHaveLength(1);
  });
});

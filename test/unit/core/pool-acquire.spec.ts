import { describe, expect, it } from 'vitest';

import { AcquireTimeoutError } from '../../../lib/core/errors/acquire-timeout.error.js';
import { InvalidPoolOptionsError } from '../../../lib/core/errors/invalid-pool-options.error.js';
import { PoolExhaustedError } from '../../../lib/core/errors/pool-exhausted.error.js';
import type { PoolMetricsRecorder } from '../../../lib/core/metrics-recorder.js';
import { flush } from './support/fake-clock.js';
import { makePool } from './support/make-pool.js';
import { observe } from './support/observe.js';
import { TestFactory } from './support/test-factory.js';

describe('Pool acquire', () => {
  it('creates a resource on demand and hands it out', async () => {
    const { pool, factory } = makePool();
    const lease = await pool.acquire();
    expect(lease.resource).toBe(factory.created[0]);
    expect(pool.stats()).toMatchObject({ size: 1, leased: 1, idle: 0, creating: 0, waiting: 0 });
  });

  it('reuses an idle resource instead of creating one', async () => {
    const { pool, factory } = makePool();
    const first = await pool.acquire();
    const resource = first.resource;
    first.release();
    const second = await pool.acquire();
    expect(second.resource).toBe(resource);
    expect(factory.createCalls).toBe(1);
  });

  it('hands out the most recently released resource first (warm stack)', async () => {
    const { pool } = makePool({ max: 3 });
    const [a, b, c] = await Promise.all([pool.acquire(), pool.acquire(), pool.acquire()]);
    const rb = b.resource;
    a.release();
    c.release();
    b.release();
    expect((await pool.acquire()).resource).toBe(rb);
  });

  it('never holds more than max resources, counting those being created', async () => {
    const factory = new TestFactory();
    factory.manual = true;
    const { pool } = makePool({ max: 3 }, factory);
    const waiters = Array.from({ length: 10 }, () => observe(pool.acquire()));
    await flush();
    expect(factory.createCalls).toBe(3);
    expect(pool.stats()).toMatchObject({ size: 3, creating: 3, waiting: 10 });
    for (const d of factory.pendingCreates) d.resolve(factory.make());
    await flush();
    expect(waiters.filter((w) => w.status === 'fulfilled')).toHaveLength(3);
    expect(pool.stats()).toMatchObject({ size: 3, leased: 3, creating: 0, waiting: 7 });
    expect(factory.createCalls).toBe(3);
  });

  it('serves waiters in FIFO order', async () => {
    const { pool } = makePool({ max: 1 });
    const holder = await pool.acquire();
    const order: number[] = [];
    const waiters = [1, 2, 3].map((n) => pool.acquire().then((lease) => (order.push(n), lease)));
    holder.release();
    (await waiters[0]!).release();
    (await waiters[1]!).release();
    (await waiters[2]!).release();
    expect(order).toEqual([1, 2, 3]);
  });

  it('a release goes to the oldest waiter, not to a caller arriving later', async () => {
    const { pool } = makePool({ max: 1 });
    const holder = await pool.acquire();
    const early = observe(pool.acquire());
    holder.release();
    const late = observe(pool.acquire());
    await flush();
    expect(early.status).toBe('fulfilled');
    expect(late.status).toBe('pending');
  });

  it('rejects at once with PoolExhaustedError when the wait queue is full', async () => {
    const { pool } = makePool({ max: 1, maxWaiting: 2 });
    await pool.acquire();
    const queued = [observe(pool.acquire()), observe(pool.acquire())];
    const third = observe(pool.acquire());
    await flush();
    expect(third.status).toBe('rejected');
    expect(third.error).toBeInstanceOf(PoolExhaustedError);
    const error = third.error as PoolExhaustedError;
    expect(error.code).toBe('MQ_POOL_EXHAUSTED');
    expect(error.reason).toBe('maxWaiting');
    expect(error.message).toContain('2 callers already waiting, maxWaiting=2');
    expect(error.stats).toMatchObject({ max: 1, leased: 1, waiting: 2 });
    expect(queued.map((q) => q.status)).toEqual(['pending', 'pending']);
  });

  it('maxWaiting 0 still lets callers wait for resources being created within max', async () => {
    const factory = new TestFactory();
    factory.manual = true;
    const { pool } = makePool({ max: 2, maxWaiting: 0 }, factory);
    const a = observe(pool.acquire());
    const b = observe(pool.acquire());
    const c = observe(pool.acquire());
    await flush();
    expect(a.status).toBe('pending');
    expect(b.status).toBe('pending');
    expect(c.status).toBe('rejected');
    expect(c.error).toBeInstanceOf(PoolExhaustedError);
  });

  it('rejects with AcquireTimeoutError carrying a stats snapshot at the deadline', async () => {
    const { pool, clock } = makePool({ max: 1, acquireTimeoutMs: 5000 });
    await pool.acquire();
    const waiter = observe(pool.acquire());
    await clock.tick(4999);
    expect(waiter.status).toBe('pending');
    await clock.tick(1);
    expect(waiter.status).toBe('rejected');
    const error = waiter.error as AcquireTimeoutError;
    expect(error).toBeInstanceOf(AcquireTimeoutError);
    expect(error.code).toBe('MQ_POOL_ACQUIRE_TIMEOUT');
    expect(error.timeoutMs).toBe(5000);
    expect(error.message).toBe(
      'acquire timed out after 5000ms (max=1, size=1, leased=1, idle=0, creating=0, waiting=1) in pool "pool"',
    );
    expect(error.stats).toMatchObject({
      max: 1,
      size: 1,
      leased: 1,
      idle: 0,
      creating: 0,
      waiting: 1,
    });
    expect(error.cause).toBeUndefined();
    expect(pool.stats().waiting).toBe(0);
  });

  it('honours a per-call timeoutMs, shorter or longer than the default', async () => {
    const { pool, clock } = makePool({ max: 1, acquireTimeoutMs: 1000 });
    await pool.acquire();
    const long = observe(pool.acquire({ timeoutMs: 3000 }));
    const short = observe(pool.acquire({ timeoutMs: 200 }));
    const normal = observe(pool.acquire());
    await clock.tick(200);
    expect([long.status, short.status, normal.status]).toEqual(['pending', 'rejected', 'pending']);
    await clock.tick(800);
    expect([long.status, normal.status]).toEqual(['pending', 'rejected']);
    await clock.tick(2000);
    expect(long.status).toBe('rejected');
    expect((long.error as AcquireTimeoutError).timeoutMs).toBe(3000);
  });

  it('expires each default-timeout waiter at its own deadline', async () => {
    const { pool, clock } = makePool({ max: 1, acquireTimeoutMs: 1000 });
    await pool.acquire();
    const first = observe(pool.acquire());
    await clock.tick(300);
    const second = observe(pool.acquire());
    await clock.tick(700);
    expect([first.status, second.status]).toEqual(['rejected', 'pending']);
    await clock.tick(299);
    expect(second.status).toBe('pending');
    await clock.tick(1);
    expect(second.status).toBe('rejected');
  });

  it('rejects an invalid per-call timeoutMs', async () => {
    const { pool } = makePool({ max: 1 });
    await pool.acquire();
    await expect(pool.acquire({ timeoutMs: -1 })).rejects.toThrow(InvalidPoolOptionsError);
    await expect(pool.acquire({ timeoutMs: Number.NaN })).rejects.toThrow(
      'Invalid option "timeoutMs"',
    );
  });

  it('an AbortSignal cancels a wait with the signal reason', async () => {
    const { pool } = makePool({ max: 1 });
    const holder = await pool.acquire();
    const controller = new AbortController();
    const waiter = observe(pool.acquire({ signal: controller.signal }));
    const reason = new Error('client went away');
    controller.abort(reason);
    await flush();
    expect(waiter.status).toBe('rejected');
    expect(waiter.error).toBe(reason);
    expect(pool.stats().waiting).toBe(0);
    // The next release is not lost on the aborted caller.
    holder.release();
    expect(pool.stats().idle).toBe(1);
  });

  it('an already aborted signal rejects at once, even with an idle resource', async () => {
    const { pool } = makePool({ max: 1 });
    (await pool.acquire()).release();
    const signal = AbortSignal.abort(new Error('too late'));
    await expect(pool.acquire({ signal })).rejects.toThrow('too late');
    expect(pool.stats()).toMatchObject({ idle: 1, leased: 0 });
  });

  it('a resource created after its waiter gave up goes back to idle, never orphaned', async () => {
    const factory = new TestFactory();
    factory.manual = true;
    const { pool, clock } = makePool({ max: 1, acquireTimeoutMs: 100 }, factory);
    const waiter = observe(pool.acquire());
    await clock.tick(100);
    expect(waiter.status).toBe('rejected');
    factory.pendingCreates[0]!.resolve(factory.make());
    await flush();
    expect(pool.stats()).toMatchObject({ size: 1, idle: 1, leased: 0, creating: 0 });
    const lease = await pool.acquire();
    expect(lease.resource).toBe(factory.created[0]);
  });

  it('a resource released after the only waiter aborted goes back to idle', async () => {
    const { pool } = makePool({ max: 1 });
    const holder = await pool.acquire();
    const controller = new AbortController();
    const waiter = observe(pool.acquire({ signal: controller.signal }));
    controller.abort();
    holder.release();
    await flush();
    expect(waiter.status).toBe('rejected');
    expect(pool.stats()).toMatchObject({ idle: 1, leased: 0, waiting: 0 });
  });

  it('arms no timer for an acquire served at once, one shared timer for waiters on the default timeout', async () => {
    const { pool, clock } = makePool({ max: 1, idleTimeoutMs: 0 });
    (await pool.acquire()).release(); // the first acquire waited for a creation
    await clock.tick(5000); // ...and its shared deadline timer fires once, finds nothing, stops
    expect(clock.pendingCount()).toBe(0);
    const holder = await pool.acquire();
    expect(clock.pendingCount()).toBe(0);
    const waiters = Array.from({ length: 50 }, () => observe(pool.acquire()));
    expect(clock.pendingCount()).toBe(1);
    holder.release();
    await flush();
    expect(waiters[0]!.status).toBe('fulfilled');
  });

  it('records acquire waits and failures in the metrics recorder', async () => {
    const calls: string[] = [];
    const metrics: PoolMetricsRecorder = {
      acquired: (s) => calls.push(`acquired:${s}`),
      acquireFailed: (r) => calls.push(`failed:${r}`),
      leak: () => calls.push('leak'),
    };
    const { pool, clock } = makePool({ max: 1, maxWaiting: 1, acquireTimeoutMs: 1000, metrics });
    const holder = await pool.acquire();
    const waiter = observe(pool.acquire());
    await expect(pool.acquire()).rejects.toThrow(PoolExhaustedError);
    await clock.tick(250);
    holder.release();
    await flush();
    expect(waiter.status).toBe('fulfilled');
    const timedOut = observe(pool.acquire());
    await clock.tick(1000);
    expect(timedOut.status).toBe('rejected');
    expect(calls).toEqual(['acquired:0', 'failed:exhausted', 'acquired:0.25', 'failed:timeout']);
  });

  it('a metrics recorder that throws is logged and never breaks an acquire', async () => {
    const metrics: PoolMetricsRecorder = {
      acquired: () => {
        throw new Error('boom');
      },
      acquireFailed: () => undefined,
      leak: () => undefined,
    };
    const { pool, logger } = makePool({ metrics });
    const lease = await pool.acquire();
    expect(lease.resource).toBeDefined();
    expect(
      logger.lines.some((l) => l.level === 'error' && l.message.includes('acquired() threw')),
    ).toBe(true);
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

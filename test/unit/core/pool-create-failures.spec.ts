import { describe, expect, it } from 'vitest';

import { fullJitterBackoff } from '../../../lib/core/backoff.js';
import { AcquireTimeoutError } from '../../../lib/core/errors/acquire-timeout.error.js';
import { PoolExhaustedError } from '../../../lib/core/errors/pool-exhausted.error.js';
import { flush } from './support/fake-clock.js';
import { makePool } from './support/make-pool.js';
import { observe } from './support/observe.js';
import { TestFactory } from './support/test-factory.js';

describe('fullJitterBackoff', () => {
  const bounds = { initialDelayMs: 100, maxDelayMs: 10_000 };

  it('draws uniformly below an exponentially growing ceiling', () => {
    expect(fullJitterBackoff(1, bounds, () => 0.5)).toBe(50);
    expect(fullJitterBackoff(2, bounds, () => 0.5)).toBe(100);
    expect(fullJitterBackoff(4, bounds, () => 0.5)).toBe(400);
    expect(fullJitterBackoff(1, bounds, () => 0.999)).toBe(99);
  });

  it('caps the ceiling at maxDelayMs, even for huge attempt numbers', () => {
    expect(fullJitterBackoff(20, bounds, () => 0.5)).toBe(5000);
    expect(fullJitterBackoff(10_000, bounds, () => 0.999)).toBe(9990);
  });

  it('never returns less than 1 ms, so a retry always goes through a timer', () => {
    expect(fullJitterBackoff(1, bounds, () => 0)).toBe(1);
  });
});

describe('Pool creation failures', () => {
  it('backs off between attempts: no hot loop while the broker is down', async () => {
    const factory = new TestFactory();
    factory.failForever();
    const { pool, clock } = makePool(
      {
        max: 4,
        acquireTimeoutMs: 60_000,
        createBackoff: { initialDelayMs: 100, maxDelayMs: 10_000 },
      },
      factory,
    );
    const waiters = Array.from({ length: 20 }, () => observe(pool.acquire()));
    await clock.tick(60_000);
    // random() = 0.5: delays 50, 100, 200, ..., 5000 (capped): about 17 attempts in a minute.
    expect(factory.createCalls).toBeGreaterThanOrEqual(10);
    expect(factory.createCalls).toBeLessThanOrEqual(20);
    expect(waiters.every((w) => w.status === 'rejected')).toBe(true);
  });

  it('keeps a single probe in flight while failing, however many callers wait', async () => {
    const factory = new TestFactory();
    factory.manual = true;
    const { pool } = makePool({ max: 8 }, factory);
    const waiters = Array.from({ length: 8 }, () => observe(pool.acquire()));
    await flush();
    expect(factory.createCalls).toBe(8);
    factory.pendingCreates[0]!.reject(new Error('ECONNREFUSED'));
    await flush();
    expect(factory.createCalls).toBe(8);
    expect(pool.stats()).toMatchObject({ creating: 7, waiting: 8 });
    void waiters;
  });

  it('waiters fail at their deadline with the last creation error as cause', async () => {
    const factory = new TestFactory();
    const refused = new Error('connect ECONNREFUSED 127.0.0.1:5672');
    factory.failForever(refused);
    const { pool, clock } = makePool({ max: 8, acquireTimeoutMs: 5000 }, factory);
    const waiter = observe(pool.acquire());
    await clock.tick(4999);
    expect(waiter.status).toBe('pending');
    await clock.tick(1);
    const error = waiter.error as AcquireTimeoutError;
    expect(error).toBeInstanceOf(AcquireTimeoutError);
    expect(error.cause).toBe(refused);
    expect(error.message).toContain(
      'acquire timed out after 5000ms (max=8, size=0, leased=0, idle=0, creating=0, waiting=1)',
    );
    expect(error.message).toContain('resource creation is failing, see cause');
  });

  it('recovers when creation succeeds again and resets the backoff', async () => {
    const factory = new TestFactory();
    factory.failNext(3);
    const { pool, clock } = makePool({ max: 2 }, factory);
    const waiter = observe(pool.acquire());
    await clock.tick(50 + 100 + 200);
    expect(waiter.status).toBe('fulfilled');
    expect(factory.createCalls).toBe(4);
    // Backoff reset: the next creation starts at once.
    const second = observe(pool.acquire());
    await flush();
    expect(second.status).toBe('fulfilled');
  });

  it('emits createError with the attempt number and the delay, and logs a warning', async () => {
    const factory = new TestFactory();
    factory.failNext(2);
    const { pool, clock, logger } = makePool({}, factory);
    const events: { attempt: number; retryInMs: number }[] = [];
    pool.on('createError', ({ attempt, retryInMs }) => events.push({ attempt, retryInMs }));
    const waiter = observe(pool.acquire());
    await clock.tick(1000);
    expect(events).toEqual([
      { attempt: 1, retryInMs: 50 },
      { attempt: 2, retryInMs: 100 },
    ]);
    expect(waiter.status).toBe('fulfilled');
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(2);
  });

  it('a factory.create() that throws synchronously counts as a failure, not a crash', async () => {
    const factory = new TestFactory();
    let calls = 0;
    factory.create = () => {
      calls++;
      if (calls === 1) throw new Error('sync');
      return Promise.resolve({ id: 1 });
    };
    const { pool, clock } = makePool({}, factory);
    const waiter = observe(pool.acquire());
    await clock.tick(100);
    expect(waiter.status).toBe('fulfilled');
  });

  it('fail-fast is off by default: callers queue until their deadline', async () => {
    const factory = new TestFactory();
    factory.failForever();
    const { pool, clock } = makePool({ max: 1, acquireTimeoutMs: 60_000 }, factory);
    void observe(pool.acquire());
    await clock.tick(30_000);
    const late = observe(pool.acquire());
    await flush();
    expect(late.status).toBe('pending');
  });

  it('with failFastAfterCreateFailures, rejects at once while failing and empty, until a probe succeeds', async () => {
    const factory = new TestFactory();
    const refused = new Error('ECONNREFUSED');
    factory.failForever(refused);
    const { pool, clock } = makePool({ max: 2, failFastAfterCreateFailures: 3 }, factory);
    const first = observe(pool.acquire());
    await clock.tick(50 + 100); // failures 1, 2, 3
    expect(factory.createCalls).toBe(3);
    const rejected = observe(pool.acquire());
    await flush();
    expect(rejected.status).toBe('rejected');
    const error = rejected.error as PoolExhaustedError;
    expect(error).toBeInstanceOf(PoolExhaustedError);
    expect(error.reason).toBe('createFailing');
    expect(error.cause).toBe(refused);
    expect(error.retryAfterMs).toBe(200);
    expect(error.message).toContain('the last 3 resource creations failed');
    // Already-queued callers keep their deadline.
    expect(first.status).toBe('pending');
    // The pool keeps probing on its own, and closes the circuit on the first success.
    factory.heal();
    await clock.tick(200);
    expect(factory.createCalls).toBe(4);
    await flush();
    expect(first.status).toBe('fulfilled');
    const after = observe(pool.acquire());
    await flush();
    expect(after.status).toBe('fulfilled');
  });

  it('keeps probing with nobody waiting while failing fast', async () => {
    const factory = new TestFactory();
    factory.failForever();
    const { pool, clock } = makePool(
      { max: 2, failFastAfterCreateFailures: 1, acquireTimeoutMs: 100 },
      factory,
    );
    void observe(pool.acquire());
    await clock.tick(1000);
    const before = factory.createCalls;
    factory.heal();
    await clock.tick(20_000);
    expect(factory.createCalls).toBeGreaterThan(before);
    expect(pool.stats()).toMatchObject({ idle: 1, size: 1 });
    await expect(pool.acquire()).resolves.toBeDefined();
  });

  it('does not fail fast while it still holds a resource that may come back', async () => {
    const factory = new TestFactory();
    const { pool, clock } = makePool({ max: 2, failFastAfterCreateFailures: 1 }, factory);
    const held = await pool.acquire();
    factory.failForever();
    const waiter = observe(pool.acquire());
    await clock.tick(100);
    const another = observe(pool.acquire());
    await flush();
    expect(another.status).toBe('pending');
    held.release();
    await flush();
    expect(waiter.status).toBe('fulfilled');
  });
});

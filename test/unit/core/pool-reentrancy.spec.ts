import { describe, expect, it } from 'vitest';

import { flush } from './support/fake-clock.js';
import { makePool } from './support/make-pool.js';
import { observe } from './support/observe.js';

describe('Pool re-entrancy', () => {
  it('listeners that call back into the pool during a dispatch do not corrupt it', async () => {
    const { pool, factory } = makePool({ max: 2 });
    const fromListener: ReturnType<typeof observe<unknown>>[] = [];
    pool.on('destroyed', () => {
      if (fromListener.length === 0) fromListener.push(observe(pool.acquire()));
    });
    pool.on('created', () => {
      const s = pool.stats();
      expect(s.size).toBeLessThanOrEqual(2);
    });
    const lease = await pool.acquire();
    await lease.destroy();
    await flush();
    expect(fromListener[0]!.status).toBe('fulfilled');
    expect(pool.stats()).toMatchObject({ size: 1, leased: 1 });
    expect(factory.createCalls).toBe(2);
  });

  it('a factory that calls into the pool while creating does not corrupt it', async () => {
    const { pool, factory } = makePool({ max: 2 });
    const original = factory.create.bind(factory);
    factory.create = (signal) => {
      expect(pool.stats().creating).toBeGreaterThan(0);
      pool.retire({ id: -1 });
      return original(signal);
    };
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    expect(a.resource).not.toBe(b.resource);
    expect(pool.stats()).toMatchObject({ size: 2, leased: 2, creating: 0 });
  });

  it('stats() is a fresh snapshot, not a live view', async () => {
    const { pool } = makePool();
    const before = pool.stats();
    await pool.acquire();
    expect(before.leased).toBe(0);
    expect(pool.stats().leased).toBe(1);
  });
});

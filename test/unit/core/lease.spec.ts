import { describe, expect, it } from 'vitest';

import { LeaseReleasedError } from '../../../lib/core/errors/lease-released.error.js';
import type { DestroyReason } from '../../../lib/core/pool-events.js';
import { flush } from './support/fake-clock.js';
import { makePool } from './support/make-pool.js';
import { observe } from './support/observe.js';
import { TestFactory } from './support/test-factory.js';

describe('Lease', () => {
  it('release is idempotent: a second release does not return the resource twice', async () => {
    const { pool } = makePool({ max: 2 });
    const lease = await pool.acquire();
    lease.release();
    lease.release();
    expect(pool.stats()).toMatchObject({ idle: 1, leased: 0, size: 1 });
    const a = await pool.acquire();
    const b = await pool.acquire();
    expect(a.resource).not.toBe(b.resource);
  });

  it('a second release after the resource went to someone else leaves that holder alone', async () => {
    const { pool } = makePool({ max: 1 });
    const first = await pool.acquire();
    first.release();
    const second = await pool.acquire();
    first.release();
    expect(pool.stats()).toMatchObject({ leased: 1, idle: 0 });
    expect(() => second.resource).not.toThrow();
  });

  it('using a released lease throws LeaseReleasedError with a clear message', async () => {
    const { pool } = makePool({ name: 'rabbitmq:orders' });
    const lease = await pool.acquire();
    lease.release();
    expect(() => lease.resource).toThrow(LeaseReleasedError);
    expect(() => lease.resource).toThrow(
      'lease of pool "rabbitmq:orders" was already released: its resource may now belong to another caller; acquire a new lease',
    );
    try {
      void lease.resource;
    } catch (error) {
      expect((error as LeaseReleasedError).code).toBe('MQ_POOL_LEASE_RELEASED');
    }
  });

  it('destroy() retires a broken resource, frees its slot, and a replacement is created', async () => {
    const { pool, factory } = makePool({ max: 1 });
    const reasons: DestroyReason[] = [];
    pool.on('destroyed', (e) => reasons.push(e.reason));
    const lease = await pool.acquire();
    const broken = lease.resource;
    const waiter = observe(pool.acquire());
    await lease.destroy(new Error('channel closed by broker: 406'));
    await flush();
    expect(factory.destroyed).toEqual([broken]);
    expect(reasons).toEqual(['broken']);
    expect(waiter.status).toBe('fulfilled');
    expect(waiter.value!.resource).not.toBe(broken);
    expect(factory.createCalls).toBe(2);
  });

  it('destroy() is idempotent and a release after it is a no-op', async () => {
    const { pool, factory } = makePool();
    const lease = await pool.acquire();
    const first = lease.destroy();
    const second = lease.destroy();
    lease.release();
    await Promise.all([first, second]);
    expect(factory.destroyed).toHaveLength(1);
    expect(pool.stats()).toMatchObject({ size: 0, leased: 0, idle: 0 });
    expect(() => lease.resource).toThrow('was already destroyed');
  });

  it('destroy() after release rejects instead of destroying a resource someone else may hold', async () => {
    const { pool, factory } = makePool({ max: 1 });
    const lease = await pool.acquire();
    lease.release();
    const other = await pool.acquire();
    await expect(lease.destroy()).rejects.toThrow(LeaseReleasedError);
    expect(factory.destroyed).toHaveLength(0);
    expect(other.resource).toBeDefined();
  });

  it('destroy() resolves even when factory.destroy fails, and logs it', async () => {
    const factory = new TestFactory();
    factory.destroy = () => Promise.reject(new Error('already closed'));
    const { pool, logger } = makePool({}, factory);
    const lease = await pool.acquire();
    await expect(lease.destroy()).resolves.toBeUndefined();
    expect(
      logger.lines.some((l) => l.level === 'warn' && l.message.includes('destroying resource')),
    ).toBe(true);
  });

  it('Symbol.asyncDispose releases the lease (await using)', async () => {
    const { pool } = makePool();
    {
      await using lease = await pool.acquire();
      expect(pool.stats().leased).toBe(1);
      expect(lease.resource).toBeDefined();
    }
    expect(pool.stats()).toMatchObject({ leased: 0, idle: 1 });
  });

  it('Symbol.asyncDispose after an explicit destroy does nothing more', async () => {
    const { pool, factory } = makePool();
    const lease = await pool.acquire();
    await lease.destroy();
    await lease[Symbol.asyncDispose]();
    expect(factory.destroyed).toHaveLength(1);
    expect(pool.stats()).toMatchObject({ size: 0, idle: 0, leased: 0 });
  });
});

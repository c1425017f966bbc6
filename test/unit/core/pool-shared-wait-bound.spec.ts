import { describe, expect, it } from 'vitest';

import { AcquireTimeoutError } from '../../../lib/core/errors/acquire-timeout.error.js';
import { PoolExhaustedError } from '../../../lib/core/errors/pool-exhausted.error.js';
import { WaitBound } from '../../../lib/core/wait-bound.js';
import { WaiterQueue } from '../../../lib/core/waiter-queue.js';
import { flush } from './support/fake-clock.js';
import { makePool } from './support/make-pool.js';
import { observe } from './support/observe.js';
import { TestFactory } from './support/test-factory.js';

/** A caller a client of the pool queues itself (as the RabbitMQ publisher lane queues publishes). */
class ClientWaiter {
  queued = false;
  constructor(readonly id: number) {}
}

describe('WaiterQueue for a client of the pool', () => {
  it('peek() shows the oldest queued waiter without taking it, skipping those that left', () => {
    const queue = new WaiterQueue<ClientWaiter>();
    const [a, b, c] = [new ClientWaiter(1), new ClientWaiter(2), new ClientWaiter(3)];
    queue.push(a);
    queue.push(b);
    queue.push(c);
    expect(queue.peek()).toBe(a);
    expect(queue.peek()).toBe(a);
    queue.remove(a);
    expect(queue.peek()).toBe(b);
    expect(queue.length).toBe(2);
    expect(queue.shift()).toBe(b);
    queue.unshift(b); // a retry keeps its turn
    expect(queue.peek()).toBe(b);
    expect(queue.shift()).toBe(b);
    expect(queue.shift()).toBe(c);
    expect(queue.peek()).toBeUndefined();
    expect(queue.length).toBe(0);
  });
});

describe('WaitBound', () => {
  it('sums the waiters of every queue that joined it, less what can be served at once', () => {
    const bound = new WaitBound(3);
    const pool = new WaiterQueue<ClientWaiter>();
    const client = new WaiterQueue<ClientWaiter>();
    bound.join(pool);
    bound.join(client);
    pool.push(new ClientWaiter(1));
    client.push(new ClientWaiter(2));
    expect(bound.waiting).toBe(2);
    expect(bound.isFull(0)).toBe(false);
    client.push(new ClientWaiter(3));
    expect(bound.isFull(0)).toBe(true);
    // One of them will be served without anyone releasing: room for one more.
    expect(bound.isFull(1)).toBe(false);
  });
});

describe('Pool: one maxWaiting with a client queue', () => {
  /** Two leases held: every further acquire has to wait. */
  async function saturated(maxWaiting: number) {
    const made = makePool({ max: 2, maxWaiting, acquireTimeoutMs: 1_000 });
    await made.pool.acquire();
    await made.pool.acquire();
    const client = new WaiterQueue<ClientWaiter>();
    made.pool.waitBound.join(client);
    return { ...made, client };
  }

  it('refuses an acquire when the client queue fills maxWaiting together with its own waiters', async () => {
    const { pool, client } = await saturated(3);
    const first = observe(pool.acquire());
    client.push(new ClientWaiter(1));
    client.push(new ClientWaiter(2));
    const refused = observe(pool.acquire());
    await flush();
    expect(first.status).toBe('pending');
    expect(refused.status).toBe('rejected');
    expect(refused.error).toBeInstanceOf(PoolExhaustedError);
    // The error counts every waiting caller, not only the pool's own.
    expect((refused.error as PoolExhaustedError).stats.waiting).toBe(3);
    expect((refused.error as Error).message).toContain('maxWaiting=3');
    // The bound follows the client queue: once its callers go, acquires wait again.
    client.shift();
    client.shift();
    const later = observe(pool.acquire());
    await flush();
    expect(later.status).toBe('pending');
  });

  it('acquireForQueue() waits in the same FIFO but is never refused for maxWaiting (its callers are counted)', async () => {
    const { pool, clock, client } = await saturated(1);
    client.push(new ClientWaiter(1));
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolExhaustedError);
    const forClient = observe(pool.acquireForQueue({ timeoutMs: 500 }));
    await flush();
    expect(forClient.status).toBe('pending');
    expect(pool.stats().waiting).toBe(1);
    await clock.tick(501);
    expect(forClient.error).toBeInstanceOf(AcquireTimeoutError);
  });
});

describe('Pool.resetCreateBackoff', () => {
  it('starts the next creation at once instead of at the end of the backoff', async () => {
    const factory = new TestFactory();
    const { pool, clock } = makePool(
      {
        max: 1,
        acquireTimeoutMs: 60_000,
        createBackoff: { initialDelayMs: 10_000, maxDelayMs: 10_000 },
      },
      factory,
    );
    factory.failNext(1);
    const waiter = observe(pool.acquire());
    await flush();
    expect(factory.createCalls).toBe(1);
    await clock.tick(1_000); // random() = 0.5: the next attempt is 5 s away
    expect(factory.createCalls).toBe(1);
    pool.resetCreateBackoff(); // the adapter's connection is back
    await flush();
    expect(factory.createCalls).toBe(2);
    expect(waiter.status).toBe('fulfilled');
    // No stale backoff timer fires a create later.
    await clock.tick(10_000);
    expect(factory.createCalls).toBe(2);
  });

  it('keeps the last failure as the cause of a wait that then times out', async () => {
    const factory = new TestFactory();
    factory.failForever(new Error('ECONNREFUSED'));
    const { pool, clock } = makePool(
      { max: 1, acquireTimeoutMs: 1_000, createBackoff: { initialDelayMs: 200, maxDelayMs: 200 } },
      factory,
    );
    const waiter = observe(pool.acquire());
    await clock.tick(10);
    pool.resetCreateBackoff();
    await clock.tick(1_000);
    expect(waiter.error).toBeInstanceOf(AcquireTimeoutError);
    expect((waiter.error as AcquireTimeoutError).cause).toEqual(new Error('ECONNREFUSED'));
  });
});

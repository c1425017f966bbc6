import type { ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolClosedError } from '../../../lib/core/errors/pool-closed.error.js';
import { ConnectionUnavailableError, RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import { amqpUrl } from '../../support/broker-env.js';
import {
  TestQueues,
  eventually,
  queueDepth,
  sleep,
  testLogger,
  uniqueName,
} from './support/rabbitmq-admin.js';

describe('RabbitMqPool consumers (real broker)', () => {
  let pool: RabbitMqPool;
  const queues = new TestQueues('cons-q');
  const freshQueue = (args?: Record<string, unknown>): Promise<string> => queues.fresh(args);

  beforeAll(async () => {
    await queues.open(amqpUrl());
    pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-consume') },
      { name: 'consume', logger: testLogger() },
    );
    await pool.start();
  });

  afterAll(async () => {
    await pool?.close();
    await queues.close();
  });

  it('acks when the handler resolves; nacks when it throws, requeueing once then rejecting to the DLX', async () => {
    const dlq = await freshQueue();
    const q = await freshQueue({ 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    const seen: Array<{ body: string; redelivered: boolean }> = [];
    const handle = await pool.consume(
      q,
      async (msg: ConsumeMessage) => {
        const body = msg.content.toString();
        seen.push({ body, redelivered: msg.fields.redelivered });
        if (body === 'poison') throw new Error('cannot handle');
      },
      { prefetch: 5 },
    );
    await pool.sendToQueue(q, 'good');
    await pool.sendToQueue(q, 'poison');
    expect(await eventually(async () => (await queueDepth(queues.admin, dlq)) === 1, 5_000)).toBe(
      true,
    );
    expect(seen).toEqual(
      expect.arrayContaining([
        { body: 'good', redelivered: false },
        { body: 'poison', redelivered: false },
        { body: 'poison', redelivered: true },
      ]),
    );
    expect(seen).toHaveLength(3);
    expect(await queueDepth(queues.admin, q)).toBe(0);
    await handle.cancel();
    expect(handle.active).toBe(false);
  });

  it('a custom requeue policy decides per error', async () => {
    const q = await freshQueue();
    let calls = 0;
    const handle = await pool.consume(
      q,
      () => {
        calls++;
        throw new Error(calls < 3 ? 'transient' : 'fatal');
      },
      { requeueOnError: (e) => (e as Error).message === 'transient' },
    );
    await pool.sendToQueue(q, 'x');
    expect(await eventually(() => calls === 3, 5_000)).toBe(true);
    await sleep(100);
    expect(calls).toBe(3);
    expect(await queueDepth(queues.admin, q)).toBe(0);
    await handle.cancel();
  });

  it('counts in-flight handlers and cancel() waits for them; nothing is redelivered after cancel', async () => {
    const q = await freshQueue();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let handled = 0;
    const handle = await pool.consume(q, async () => {
      await gate;
      handled++;
    });
    await pool.sendToQueue(q, 'a');
    await pool.sendToQueue(q, 'b');
    expect(await eventually(() => handle.inFlight === 2, 5_000)).toBe(true);
    expect(pool.stats().consumers).toMatchObject({ total: 1, active: 1, inFlight: 2 });
    const cancelled = handle.cancel();
    await sleep(100);
    await pool.sendToQueue(q, 'c'); // arrives after basic.cancel: stays in the queue
    release();
    await cancelled;
    expect(handled).toBe(2);
    expect(await queueDepth(queues.admin, q)).toBe(1);
    expect(pool.stats().consumers.total).toBe(0);
  });

  it('406 on a consumer channel does not touch publishers; the consumer re-attaches', async () => {
    const q = await freshQueue();
    const out = await freshQueue();
    let doubleAck = true;
    let received = 0;
    const handle = await pool.consume(q, (msg) => {
      received++;
      // A user bug: acking by hand, then the handle acks again -> 406 PRECONDITION_FAILED closes the channel.
      if (doubleAck) handle.channel?.ack(msg);
      doubleAck = false;
    });
    const generation = handle.generation;
    let stop = false;
    const publishErrors: unknown[] = [];
    let published = 0;
    const flood = (async () => {
      // Bounded as well, so a failing expectation can never leave this loop spinning.
      for (let i = 0; !stop && i < 100_000; i++) {
        await pool.sendToQueue(out, 'p').then(
          () => published++,
          (e: unknown) => publishErrors.push(e),
        );
      }
    })();
    await pool.sendToQueue(q, 'first');
    expect(await eventually(() => handle.generation > generation && handle.active, 10_000)).toBe(
      true,
    );
    await pool.sendToQueue(q, 'second');
    expect(await eventually(() => received >= 2, 5_000)).toBe(true);
    stop = true;
    await flood;
    expect(publishErrors).toEqual([]);
    expect(published).toBeGreaterThan(0);
    expect(await queueDepth(queues.admin, out)).toBe(published);
    await handle.cancel();
  });

  it('consume() on a missing queue rejects and leaves nothing behind', async () => {
    await expect(pool.consume(uniqueName('missing'), () => undefined)).rejects.toThrow(/404/);
    expect(pool.stats().consumers.total).toBe(0);
  });

  it('consume() with no broker rejects at its deadline with the connect error as cause', async () => {
    const dead = new RabbitMqPool(
      { url: 'amqp://guest:guest@127.0.0.1:1', connectionName: uniqueName('it-dead') },
      { name: 'dead' },
    );
    try {
      const e = await dead
        .consume('q', () => undefined, { timeoutMs: 300 })
        .catch((err: unknown) => err);
      expect(e).toBeInstanceOf(ConnectionUnavailableError);
      expect(String((e as Error).cause)).toMatch(/ECONNREFUSED/);
    } finally {
      await dead.close();
    }
    await expect(dead.consume('q', () => undefined)).rejects.toBeInstanceOf(PoolClosedError);
  });
});

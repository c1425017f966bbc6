import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import { amqpUrl } from '../../support/broker-env.js';
import { DeclaredEntities } from './support/declared-entities.js';
import {
  NO_RABBITMQCTL,
  closeConnectionsNamed,
  eventually,
  queueDepth,
  rabbitmqctlAvailable,
  sleep,
  testLogger,
  uniqueName,
} from './support/rabbitmq-admin.js';

/** `subscribe()` across a forced connection close and through drain (real broker). */
describe('RabbitMqPool.subscribe recovery and drain (real broker)', () => {
  const entities = new DeclaredEntities();
  let ctl = false;

  beforeAll(async () => {
    await entities.open(amqpUrl());
    ctl = await rabbitmqctlAvailable();
  });
  afterAll(async () => {
    await entities.close();
  });

  const handlerQueue = (delays: number[] = []): string => {
    const q = uniqueName('it-subrec');
    entities.queue(q, `${q}.dlq`, ...delays.map((d) => `${q}.retry.${d}`));
    return q;
  };

  it('re-attaches after the broker force-closes the connections, re-declaring a deleted handler queue', async (ctx) => {
    if (!ctl) ctx.skip(NO_RABBITMQCTL);
    const q = handlerQueue([100]);
    const connectionName = uniqueName('it-subrec');
    const pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName, reconnect: { initialDelayMs: 50, maxDelayMs: 200 } },
      { name: 'subscribe-recovery', logger: testLogger() },
    );
    try {
      await pool.start();
      const received: number[] = [];
      let failOnce = true;
      const sub = await pool.subscribe<{ n: number }>(
        { queue: q, retry: { attempts: 2, delayMs: 100 } },
        async ({ n }) => {
          if (n === 2 && failOnce) {
            failOnce = false;
            throw new Error('first try fails');
          }
          received.push(n);
        },
      );
      await pool.sendToQueue(q, { n: 1 });
      expect(await eventually(() => received.length === 1, 5_000)).toBe(true);

      // The handler queue and its delay queue disappear, then the connections do.
      await entities.withChannel(async (ch) => {
        await ch.deleteQueue(q);
        await ch.deleteQueue(`${q}.retry.100`);
      });
      expect(await closeConnectionsNamed(connectionName)).toBe(2);
      expect(await eventually(() => !sub.active, 5_000)).toBe(true);
      expect(await eventually(() => sub.active, 15_000)).toBe(true);
      expect(await entities.queueExists(q)).toBe(true);
      expect(await entities.queueExists(`${q}.retry.100`)).toBe(true);

      // Deliveries and retries work again.
      await pool.sendToQueue(q, { n: 2 });
      expect(await eventually(() => received.includes(2), 5_000)).toBe(true);
      expect(failOnce).toBe(false);
      await sub.cancel();
    } finally {
      await pool.close();
    }
  });

  it('drain lets in-flight handlers finish and ack; the rest stays in the queue, nothing lost', async () => {
    const q = handlerQueue();
    const pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-subdrain') },
      { name: 'subscribe-drain', logger: testLogger() },
    );
    await pool.start();
    const total = 20;
    const started: number[] = [];
    const finished: number[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sub = await pool.subscribe<{ n: number }>({ queue: q, prefetch: 3 }, async ({ n }) => {
      started.push(n);
      await gate;
      await sleep(50);
      finished.push(n);
    });
    for (let n = 0; n < total; n++) await pool.sendToQueue(q, { n });
    expect(await eventually(() => started.length === 3, 5_000)).toBe(true);

    const drained = pool.drain(10_000);
    await sleep(200);
    expect(finished).toEqual([]); // drain waits for the handlers
    release();
    const report = await drained;
    expect(report.handlersAtDeadline).toBe(0);
    expect(report.timedOut).toBe(false);
    expect(finished.sort((a, b) => a - b)).toEqual(started.sort((a, b) => a - b));
    expect(sub.active).toBe(false);
    // Acked what finished; the rest went back to the queue.
    expect(
      await eventually(
        async () => (await queueDepth(entities.admin, q)) === total - finished.length,
        5_000,
      ),
    ).toBe(true);
    await pool.close();
  });

  it('a handler failing during drain still gets its retry copy published before the ack', async () => {
    const q = handlerQueue([60_000]);
    const pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-subdrain-retry') },
      { name: 'subscribe-drain-retry', logger: testLogger() },
    );
    await pool.start();
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    await pool.subscribe(
      { queue: q, prefetch: 1, retry: { attempts: 2, delayMs: 60_000 } },
      async () => {
        started = true;
        await gate;
        throw new Error('fails while draining');
      },
    );
    await pool.sendToQueue(q, { n: 1 });
    expect(await eventually(() => started, 5_000)).toBe(true);
    const drained = pool.drain(10_000);
    await sleep(100);
    release();
    expect((await drained).handlersAtDeadline).toBe(0);
    expect(await queueDepth(entities.admin, q)).toBe(0);
    expect(await queueDepth(entities.admin, `${q}.retry.60000`)).toBe(1);
    await pool.close();
  });
});

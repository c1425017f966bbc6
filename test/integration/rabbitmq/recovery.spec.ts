import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  NOOP_RABBITMQ_METRICS,
  RabbitMqPool,
  type StaleDeliveryError,
} from '../../../lib/rabbitmq/index.js';
import type { RabbitMqMetricsRecorder } from '../../../lib/rabbitmq/rabbitmq-metrics.js';
import { amqpUrl } from '../../support/broker-env.js';
import {
  TestQueues,
  closeConnectionsNamed,
  connectionsNamed,
  eventually,
  queueDepth,
  NO_RABBITMQCTL,
  rabbitmqctlAvailable,
  sleep,
  testLogger,
  uniqueName,
} from './support/rabbitmq-admin.js';

/**
 * Connections force-closed by the broker (as an operator, a failover or a load balancer would). Only the
 * pool's own connections are closed, found by their connection_name: nothing else on the shared broker is disturbed.
 */
describe('RabbitMqPool recovery from broker-closed connections (real broker)', () => {
  let ctl = false;
  const queues = new TestQueues('rec-q');
  const freshQueue = (args?: Record<string, unknown>): Promise<string> => queues.fresh(args);

  beforeAll(async () => {
    await queues.open(amqpUrl());
    ctl = await rabbitmqctlAvailable();
  });
  afterAll(async () => {
    await queues.close();
  });

  it('recovers publishing, leases and consumers after every connection is force-closed', async (ctx) => {
    if (!ctl) ctx.skip(NO_RABBITMQCTL);
    const name = uniqueName('it-recover');
    const logger = testLogger();
    const counts = { reconnectOk: 0 };
    const metrics: RabbitMqMetricsRecorder = {
      ...NOOP_RABBITMQ_METRICS,
      reconnect: (_role, outcome) => void (outcome === 'success' && counts.reconnectOk++),
    };
    const pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: name, connections: 2 },
      { name: 'recover', logger, metrics },
    );
    let stop = false;
    try {
      await pool.start();
      const q = await freshQueue();
      const consumed = new Set<string>();
      const handle = await pool.consume(
        q,
        (m) => void consumed.add(m.properties.messageId as string),
        { prefetch: 50 },
      );
      const generation = handle.generation;
      const lease = await pool.acquire();

      const resolved = new Set<string>();
      const failures: unknown[] = [];
      let seq = 0;
      const publishers = Array.from({ length: 32 }, async () => {
        while (!stop) {
          const id = `m-${seq++}`;
          await pool.sendToQueue(q, id, { messageId: id }).then(
            () => resolved.add(id),
            (e: unknown) => failures.push(e),
          );
        }
      });
      // Traffic flows before the failure: otherwise "publishing resumes" below proves nothing.
      expect(await eventually(() => resolved.size > 200, 10_000)).toBe(true);

      expect(await connectionsNamed(name)).toHaveLength(3); // 2 publisher + 1 consumer
      expect(await closeConnectionsNamed(name)).toBe(3);
      const closedAt = Date.now();

      // The lease held across the failure is dead: its holder sees it, the pool does not hand it out again.
      expect(await eventually(() => !lease.alive, 5_000)).toBe(true);
      lease.release();

      // Publishing resumes on new connections.
      const before = resolved.size;
      expect(await eventually(() => resolved.size > before + 200, 15_000)).toBe(true);
      const recoveredMs = Date.now() - closedAt;
      // Consumers re-attach on the new consumer connection.
      expect(await eventually(() => handle.active && handle.generation > generation, 15_000)).toBe(
        true,
      );
      stop = true;
      await Promise.all(publishers);

      // Every resolved publish reached the queue and is consumed (duplicates possible, losses not).
      expect(await eventually(() => [...resolved].every((id) => consumed.has(id)), 15_000)).toBe(
        true,
      );
      // All three connections come back (the idle second publisher connection too).
      expect(
        await eventually(() => counts.reconnectOk >= 3 && pool.stats().connections === 2, 10_000),
      ).toBe(true);
      // Publishes in flight on the dead connections were retried once; any failure is typed, none hangs.
      for (const f of failures) expect((f as { code?: string }).code).toMatch(/^MQ_POOL_/);
      console.log(
        `[recovery] all 3 connections force-closed: publishing again after ${recoveredMs}ms; ` +
          `${resolved.size} confirmed, ${failures.length} failed (typed), consumer generation ${handle.generation}`,
      );
      const leaseAfter = await pool.acquire({ timeoutMs: 5_000 });
      await leaseAfter.channel.checkQueue(q);
      leaseAfter.release();
      await handle.cancel();
    } finally {
      stop = true;
      await pool.close();
    }
  });

  it('an ack for a delivery from a dead channel is dropped and reported, never sent on the new channel', async (ctx) => {
    if (!ctl) ctx.skip(NO_RABBITMQCTL);
    const name = uniqueName('it-stale');
    const pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: name },
      { name: 'stale', logger: testLogger() },
    );
    try {
      await pool.start();
      const q = await freshQueue();
      const staleEvents: StaleDeliveryError[] = [];
      pool.on('staleDelivery', (e) => staleEvents.push(e));
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const deliveries: Array<{ tag: number; redelivered: boolean; generation: number }> = [];
      const handle = await pool.consume(q, async (msg) => {
        deliveries.push({
          tag: msg.fields.deliveryTag,
          redelivered: msg.fields.redelivered,
          generation: handle.generation,
        });
        if (deliveries.length === 1) await gate; // the first delivery is held across the reconnect
      });
      await pool.sendToQueue(q, 'held');
      expect(await eventually(() => handle.inFlight === 1, 5_000)).toBe(true);

      expect(await closeConnectionsNamed(`${name}:consumer`)).toBe(1);
      // The broker requeues the unacked message and redelivers it on the new channel.
      expect(await eventually(() => deliveries.length === 2, 15_000)).toBe(true);
      const generationAfter = handle.generation;
      release(); // the old handler now finishes: its ack must be dropped
      expect(await eventually(() => staleEvents.length === 1, 5_000)).toBe(true);
      expect(staleEvents[0]).toMatchObject({
        code: 'MQ_POOL_STALE_DELIVERY',
        queue: q,
        deliveryTag: deliveries[0]?.tag,
        outcome: 'ack',
      });
      expect(handle.staleDeliveries).toBe(1);
      expect(pool.stats().staleDeliveries).toBe(1);
      expect(deliveries[1]).toMatchObject({ redelivered: true });

      // The new channel is still fine (a stale tag sent on it would have closed it with 406).
      await sleep(300);
      expect(handle.generation).toBe(generationAfter);
      expect(handle.active).toBe(true);
      await pool.sendToQueue(q, 'after');
      expect(await eventually(() => deliveries.length === 3, 5_000)).toBe(true);
      expect(
        await eventually(
          async () => (await queueDepth(queues.admin, q)) === 0 && handle.inFlight === 0,
          5_000,
        ),
      ).toBe(true);
      await handle.cancel();
    } finally {
      await pool.close();
    }
  });

  it('waiters get a channel once the connection is back, or fail at their deadline', async (ctx) => {
    if (!ctl) ctx.skip(NO_RABBITMQCTL);
    const name = uniqueName('it-waiters');
    const pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: name, channelsPerConnection: 2, acquireTimeoutMs: 8_000 },
      { name: 'waiters', logger: testLogger() },
    );
    try {
      await pool.start();
      const a = await pool.acquire();
      const b = await pool.acquire();
      const waiters = Array.from({ length: 6 }, () => pool.acquire());
      const short = pool.acquire({ timeoutMs: 200 }).catch((e: unknown) => e);
      await closeConnectionsNamed(`${name}:publisher`);
      expect(await short).toMatchObject({ code: 'MQ_POOL_ACQUIRE_TIMEOUT' });
      a.release();
      b.release();
      // Two channels at a time on the new connection; all six waiters get one within their deadline.
      let served = 0;
      await Promise.all(
        waiters.map(async (w) => {
          const lease = await w;
          await lease.channel.checkExchange('amq.direct');
          served++;
          lease.release();
        }),
      );
      expect(served).toBe(6);
    } finally {
      await pool.close();
    }
  });

  it('publishes queued behind a blocked connection go out as soon as it is unblocked', async () => {
    // The broker's connection.blocked/unblocked notifications are replayed on the pool's real
    // connection (a real memory alarm, on a disposable node, is reliability scenario 5; there a
    // publish held by the broker since the block wakes the lane by its late confirm, masking this).
    const pool = new RabbitMqPool(
      {
        url: amqpUrl(),
        connectionName: uniqueName('it-unblock'),
        consumerConnections: 0,
        acquireTimeoutMs: 10_000,
      },
      { name: 'unblock', logger: testLogger() },
    );
    await pool.start();
    try {
      const q = await freshQueue();
      await pool.sendToQueue(q, 'warm');
      const model = (
        pool as unknown as {
          connections: { publishers: { model: { emit(e: string, ...a: unknown[]): void } }[] };
        }
      ).connections.publishers[0]!.model;
      model.emit('blocked', 'replayed memory alarm');
      const queued = Array.from({ length: 5 }, (_, i) => pool.sendToQueue(q, `queued-${i}`));
      await sleep(200);
      expect(pool.stats().publisher.waiting).toBe(5);
      const unblockedAt = Date.now();
      model.emit('unblocked');
      await Promise.all(queued);
      expect(Date.now() - unblockedAt).toBeLessThan(2_000);
      expect(await queueDepth(queues.admin, q)).toBe(6);
    } finally {
      await pool.close();
    }
  });
});

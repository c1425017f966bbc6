import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolClosedError } from '../../../lib/core/errors/pool-closed.error.js';
import { RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import { amqpUrl } from '../../support/broker-env.js';
import { FaultProxy } from '../../support/fault-proxy.js';
import {
  TestQueues,
  eventually,
  queueDepth,
  sleep,
  testLogger,
  uniqueName,
} from './support/rabbitmq-admin.js';

describe('RabbitMqPool drain (real broker)', () => {
  const queues = new TestQueues('drain-q');
  const freshQueue = (args?: Record<string, unknown>): Promise<string> => queues.fresh(args);

  beforeAll(async () => {
    await queues.open(amqpUrl());
  });
  afterAll(async () => {
    await queues.close();
  });

  it('drains in order: readiness down, acquires refused, consumers cancelled, handlers and leases awaited, confirms awaited, closed', async () => {
    const logger = testLogger();
    const pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-drain') },
      { name: 'drain', logger },
    );
    await pool.start();
    const q = await freshQueue();
    const out = await freshQueue();
    const events: string[] = [];
    let releaseHandler!: () => void;
    const handlerGate = new Promise<void>((r) => (releaseHandler = r));
    const handle = await pool.consume(q, async () => {
      events.push('handler started');
      await handlerGate;
      // A handler still running during the drain may publish: the lane closes only after handlers finish.
      await pool.sendToQueue(out, 'from handler');
      events.push('handler done');
    });
    await pool.sendToQueue(q, 'one');
    await pool.sendToQueue(q, 'two');
    expect(await eventually(() => handle.inFlight === 2, 5_000)).toBe(true);
    const lease = await pool.acquire();

    const drained = pool.drain(10_000);
    expect(pool.health()).toMatchObject({ healthy: false, reason: 'pool is draining' });
    await expect(pool.acquire()).rejects.toBeInstanceOf(PoolClosedError);
    await expect(pool.consume(q, () => undefined)).rejects.toBeInstanceOf(PoolClosedError);
    await sleep(200);
    await pool.sendToQueue(q, 'after cancel'); // the consumer was cancelled: it stays queued
    events.push('releasing');
    releaseHandler();
    await sleep(200);
    events.push('lease released');
    lease.release();
    const report = await drained;

    expect(events).toEqual([
      'handler started',
      'handler started',
      'releasing',
      'handler done',
      'handler done',
      'lease released',
    ]);
    expect(report).toMatchObject({
      timedOut: false,
      consumersCancelled: 1,
      handlersAtDeadline: 0,
      unconfirmedAtDeadline: 0,
      waitingPublishesAtDeadline: 0,
      channels: { leasedAtDeadline: 0, timedOut: false },
    });
    expect(report.before.consumers.inFlight).toBe(2);
    expect(report.after).toMatchObject({ connections: 0, closed: true, channels: { total: 0 } });
    expect(await queueDepth(queues.admin, out)).toBe(2);
    expect(await queueDepth(queues.admin, q)).toBe(1);
    await expect(pool.sendToQueue(q, 'late')).rejects.toBeInstanceOf(PoolClosedError);
    expect(pool.health()).toMatchObject({ healthy: false, reason: 'pool is closed' });
    expect(await pool.drain(10)).toBe(report); // idempotent
    expect(logger.lines.some((l) => l.includes('RabbitMQ pool draining'))).toBe(true);
    expect(logger.lines.some((l) => l.includes('RabbitMQ pool drained'))).toBe(true);
  });

  it('at the deadline: running handlers are abandoned and their messages go back to the queue', async () => {
    const pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-drain-deadline') },
      { name: 'drain-deadline' },
    );
    await pool.start();
    const q = await freshQueue();
    const handle = await pool.consume(q, () => new Promise<void>(() => undefined)); // never settles
    await pool.sendToQueue(q, 'stuck');
    expect(await eventually(() => handle.inFlight === 1, 5_000)).toBe(true);
    const lease = await pool.acquire(); // never released
    const started = Date.now();
    const report = await pool.drain(500);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(report).toMatchObject({
      timedOut: true,
      handlersAtDeadline: 1,
      channels: { leasedAtDeadline: 1 },
    });
    expect(lease.alive).toBe(false);
    // Unacked: back in the queue once the channel closed.
    expect(await eventually(async () => (await queueDepth(queues.admin, q)) === 1, 5_000)).toBe(
      true,
    );
  });

  it('keeps to its deadline when the broker stops answering, and leaves no connection open', async () => {
    const proxy = await FaultProxy.start({ upstreamPort: Number(new URL(amqpUrl()).port || 5672) });
    try {
      const pool = new RabbitMqPool(
        {
          url: proxy.urlFor(amqpUrl()),
          acquireTimeoutMs: 5_000,
          connectTimeoutMs: 5_000,
          heartbeatSeconds: 0,
        },
        { name: 'drain-frozen', logger: testLogger() },
      );
      await pool.start();
      const q = await freshQueue();
      await pool.consume(q, async () => undefined);
      await pool.sendToQueue(q, 'warm');
      proxy.blackhole(); // bytes swallowed both ways, nothing closed: every RPC waits forever
      const started = Date.now();
      const report = await pool.drain(1_000);
      const tookMs = Date.now() - started;
      // Before: cancel, channel close and connection close each waited their own 5 s timeout.
      expect(tookMs).toBeLessThan(1_600);
      expect(report.timedOut).toBe(true);
      // The pool's own sockets to the proxy are gone (the proxy itself swallows their FIN).
      const openToProxy = (): number =>
        (process as unknown as { _getActiveHandles(): unknown[] })
          ._getActiveHandles()
          .filter((h) => h instanceof Socket && h.remotePort === proxy.port && !h.destroyed).length;
      expect(await eventually(() => openToProxy() === 0, 3_000)).toBe(true);
    } finally {
      await proxy.close();
    }
  });
});

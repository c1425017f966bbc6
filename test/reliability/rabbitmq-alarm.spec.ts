import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MqPoolError } from '../../lib/core/errors/mq-pool.error.js';
import { RabbitMqPool } from '../../lib/rabbitmq/index.js';
import {
  createDisposableRabbitMq,
  isDisposableRabbitMqSupported,
  type DisposableRabbitMq,
} from '../support/disposable-rabbitmq.js';
import {
  eventually,
  testLogger,
  uniqueName,
} from '../integration/rabbitmq/support/rabbitmq-admin.js';
import { trapUnhandled } from './support/broker-faults.js';
import { recordFigure } from './support/figures.js';

/** Below any real footprint: the memory alarm goes off at once. */
const TINY_WATERMARK = '0.0000001';
const NORMAL_WATERMARK = '0.4';

/**
 * Scenario 5: a memory alarm on a disposable RabbitMQ node (never the shared one). The broker blocks
 * publishing connections; the pool must notice (stats, health, typed errors at the publish deadline),
 * its consumers, on their own connection, must keep acking, and publishing must resume once the alarm
 * clears.
 */
describe.skipIf(!isDisposableRabbitMqSupported())('reliability #5: RabbitMQ memory alarm', () => {
  let node: DisposableRabbitMq;

  beforeAll(async () => {
    node = await createDisposableRabbitMq({ label: 'alarm' });
    await node.start();
  }, 180_000);

  afterAll(async () => {
    await node?.ctl('set_vm_memory_high_watermark', NORMAL_WATERMARK).catch(() => undefined);
    await node?.dispose();
  }, 60_000);

  /** messages_ready / messages_unacknowledged as the broker sees them. */
  async function queueCounts(queue: string): Promise<{ ready: number; unacked: number }> {
    const out = await node.ctl(
      '-q',
      'list_queues',
      'name',
      'messages_ready',
      'messages_unacknowledged',
      '--formatter',
      'json',
    );
    const rows = JSON.parse(out.trim() || '[]') as Array<{
      name: string;
      messages_ready: number;
      messages_unacknowledged: number;
    }>;
    const row = rows.find((r) => r.name === queue);
    if (!row) throw new Error(`queue ${queue} not found on ${node.nodename}`);
    return { ready: row.messages_ready, unacked: row.messages_unacknowledged };
  }

  it('memory alarm: publishes fail clearly (typed, at their deadline), blocked shows in stats and health, consumers keep acking, publishing recovers', async () => {
    const trap = trapUnhandled();
    const pool = new RabbitMqPool(
      {
        url: node.url,
        connectionName: uniqueName('rel-alarm'),
        confirmTimeoutMs: 1_500,
        acquireTimeoutMs: 1_500,
      },
      { name: 'alarm', logger: testLogger() },
    );
    const q = uniqueName('rel-alarm-q');
    let alarmOn = false;
    let blockedAt = 0;
    let unblockedAt = 0;
    pool.on('blocked', () => (blockedAt ||= Date.now()));
    pool.on('unblocked', () => (unblockedAt ||= Date.now()));
    try {
      await pool.start();
      await pool.withChannel((ch) => ch.assertQueue(q, { durable: true }));
      for (let i = 0; i < 5; i++) await pool.sendToQueue(q, `pre-${i}`);
      let acked = 0;
      let gate!: () => void;
      const held = new Promise<void>((r) => (gate = r));
      const handle = await pool.consume(
        q,
        async () => {
          await held;
          acked++;
        },
        { prefetch: 5 },
      );
      expect(await eventually(() => handle.inFlight === 5, 5_000)).toBe(true);
      expect(pool.stats().consumerConnections).toBe(1); // its own connection (the default)

      // Times are measured from the moment the command is issued: rabbitmqctl itself takes ~1 s (an
      // Erlang VM boots), and the broker may notify before the command returns.
      const alarmIssuedAt = Date.now();
      await node.ctl('set_vm_memory_high_watermark', TINY_WATERMARK);
      alarmOn = true;
      const alarmSetAt = Date.now();
      const ctlMs = alarmSetAt - alarmIssuedAt;
      // RabbitMQ blocks a connection when it next publishes: this publish gets no confirm, and fails
      // with a typed error at its deadline instead of hanging.
      const during = await pool.sendToQueue(q, 'during alarm').catch((e: unknown) => e);
      const duringMs = Date.now() - alarmSetAt;
      expect(during).toBeInstanceOf(MqPoolError);
      expect(during).toMatchObject({
        code: expect.stringMatching(/^MQ_POOL_(CONFIRM_TIMEOUT|ACQUIRE_TIMEOUT)$/),
      });
      expect(duringMs).toBeLessThan(1_500 + 1_500 + 1_000);
      expect(await eventually(() => blockedAt > 0 && pool.stats().blocked >= 1, 5_000)).toBe(true);
      const detectMs = blockedAt - alarmIssuedAt;
      expect(pool.health()).toMatchObject({
        healthy: false,
        reason: expect.stringMatching(/blocked/),
      });

      // Once the pool knows every publisher connection is blocked, a publish waits for its own
      // deadline and names the alarm as the cause.
      const t = Date.now();
      const blockedPublish = await pool
        .sendToQueue(q, 'while blocked', { timeoutMs: 800 })
        .catch((e: unknown) => e);
      const blockedPublishMs = Date.now() - t;
      expect(blockedPublish).toMatchObject({ code: 'MQ_POOL_ACQUIRE_TIMEOUT' });
      expect(String((blockedPublish as Error).cause)).toMatch(/resource alarm/);
      expect(blockedPublishMs).toBeGreaterThanOrEqual(700);
      expect(blockedPublishMs).toBeLessThan(800 + 1_000);

      // Consumers have their own connection: their acks still reach the broker during the alarm.
      gate();
      expect(await eventually(() => acked === 5 && handle.inFlight === 0, 5_000)).toBe(true);
      expect(await eventually(async () => (await queueCounts(q)).unacked === 0, 10_000)).toBe(true);
      expect(pool.stats().blocked).toBeGreaterThanOrEqual(1); // still under the alarm

      // A publish with a long deadline waits behind the alarm; once it clears it must go out at once,
      // not at its deadline (nothing else wakes the lane: no confirm, no new channel).
      let queuedDoneAt = 0;
      const queued = pool
        .sendToQueue(q, 'queued across the clear', { timeoutMs: 30_000 })
        .then(() => (queuedDoneAt = Date.now()));

      const clearIssuedAt = Date.now();
      await node.ctl('set_vm_memory_high_watermark', NORMAL_WATERMARK);
      alarmOn = false;
      const clearedAt = Date.now();
      expect(await eventually(() => pool.stats().blocked === 0, 10_000)).toBe(true);
      expect(pool.health().healthy).toBe(true);
      await queued;
      expect(queuedDoneAt - unblockedAt).toBeLessThan(3_000);
      // The first publish after the alarm cleared is confirmed (retry until it is, bounded).
      let recoveredAt = 0;
      const until = clearedAt + 10_000;
      while (recoveredAt === 0 && Date.now() < until) {
        await pool.sendToQueue(q, 'after alarm', { timeoutMs: 1_000 }).then(
          () => (recoveredAt = Date.now()),
          () => undefined,
        );
      }
      expect(recoveredAt).toBeGreaterThan(0);
      expect(unblockedAt).toBeGreaterThan(0);
      const unblockMs = unblockedAt - clearIssuedAt;
      const recoverMs = recoveredAt - clearIssuedAt;
      await handle.cancel();
      expect(trap.errors).toEqual([]);

      console.log(
        `[alarm] (rabbitmqctl takes ~${ctlMs}ms; times from issuing it) blocked detected after ${detectMs}ms; publish during the alarm failed after ` +
          `${duringMs}ms (${(during as MqPoolError).code}); publish while known-blocked failed after ${blockedPublishMs}ms ` +
          `(cause: ${String((blockedPublish as Error).cause)}); 5/5 acks reached the broker during the alarm; ` +
          `unblocked ${unblockMs}ms and first confirmed publish ${recoverMs}ms after the clear was issued`,
      );
      recordFigure({
        scenario: 5,
        title: 'RabbitMQ memory alarm on a disposable node',
        expectation:
          'publishes fail clearly (typed, at their deadline) and blocked shows in stats/health; consumer acks flow; publishing recovers after the alarm clears',
        result:
          `blocked detected ${detectMs} ms after the alarm command (rabbitmqctl ~${ctlMs} ms); publish failed typed after ${duringMs} ms ` +
          `(${(during as MqPoolError).code}), ${blockedPublishMs} ms when known-blocked (cause: alarm); ` +
          `5/5 consumer acks during alarm; recovered (first confirm) ${recoverMs} ms after the clear command`,
      });
    } finally {
      if (alarmOn) await node.ctl('set_vm_memory_high_watermark', NORMAL_WATERMARK);
      trap.dispose();
      await pool
        .withChannel((ch) => ch.deleteQueue(q), { timeoutMs: 5_000 })
        .catch(() => undefined);
      await pool.close();
    }
  }, 120_000);
});

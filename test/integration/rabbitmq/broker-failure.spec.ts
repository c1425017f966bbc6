import type { ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import {
  createDisposableRabbitMq,
  isDisposableRabbitMqSupported,
  type DisposableRabbitMq,
} from '../../support/disposable-rabbitmq.js';
import {
  adminConnection,
  eventually,
  queueDepth,
  sleep,
  testLogger,
  uniqueName,
} from './support/rabbitmq-admin.js';

/**
 * Destructive tests on a disposable RabbitMQ node of their own (own ports, name, data dirs): resource alarm,
 * a broker down for a while, kill -9 and restart under load. The shared broker is never touched.
 */
describe.skipIf(!isDisposableRabbitMqSupported())(
  'RabbitMqPool against a failing broker (disposable node)',
  () => {
    let node: DisposableRabbitMq;

    beforeAll(async () => {
      node = await createDisposableRabbitMq({ label: 'fail' });
      await node.start();
    }, 180_000);

    afterAll(async () => {
      await node?.dispose();
    }, 60_000);

    async function withAdmin<T>(fn: (admin: ChannelModel) => Promise<T>): Promise<T> {
      const admin = await adminConnection(node.url);
      try {
        return await fn(admin);
      } finally {
        await admin.close().catch(() => undefined);
      }
    }

    it('a resource alarm blocks publishing connections: shown in stats and health, consumers still ack', async () => {
      const pool = new RabbitMqPool(
        {
          url: node.url,
          connectionName: uniqueName('it-alarm'),
          confirmTimeoutMs: 1_500,
          acquireTimeoutMs: 1_500,
        },
        { name: 'alarm', logger: testLogger() },
      );
      const q = uniqueName('alarm-q');
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

        await node.ctl('set_vm_memory_high_watermark', '0');
        try {
          // The broker blocks a connection when it publishes: this publish gets no confirm.
          const during = await pool.sendToQueue(q, 'during alarm').catch((e: unknown) => e);
          expect(during).toMatchObject({
            code: expect.stringMatching(/MQ_POOL_(CONFIRM_TIMEOUT|ACQUIRE_TIMEOUT)/),
          });
          expect(await eventually(() => pool.stats().blocked >= 1, 5_000)).toBe(true);
          expect(pool.health()).toMatchObject({
            healthy: false,
            reason: expect.stringMatching(/blocked/),
          });
          // Consumers have their own connection: their acks still flow.
          gate();
          expect(await eventually(() => acked === 5 && handle.inFlight === 0, 5_000)).toBe(true);
        } finally {
          await node.ctl('set_vm_memory_high_watermark', '0.4');
        }
        expect(await eventually(() => pool.stats().blocked === 0, 10_000)).toBe(true);
        expect(pool.health().healthy).toBe(true);
        await pool.sendToQueue(q, 'after alarm');
        await handle.cancel();
      } finally {
        await pool.withChannel((ch) => ch.deleteQueue(q)).catch(() => undefined);
        await pool.close();
      }
    }, 120_000);

    it('broker unreachable for 15 s: calls fail at their deadline with the connect error as cause, memory bounded, no tight reconnect loop', async () => {
      const logger = testLogger();
      const pool = new RabbitMqPool(
        {
          url: node.url,
          connectionName: uniqueName('it-outage'),
          acquireTimeoutMs: 1_000,
          maxWaiting: 200,
        },
        { name: 'outage', logger },
      );
      let stop = false;
      let restarted = true;
      try {
        await pool.start();
        const q = uniqueName('outage-q');
        await pool.withChannel((ch) => ch.assertQueue(q, { durable: true }));
        await node.syncMetadata(); // the queue definition must survive the kill (see syncMetadata)
        await pool.sendToQueue(q, 'before');

        await node.kill9();
        restarted = false;
        const downAt = Date.now();
        const attemptsAtDown = pool.stats().connectAttempts;
        const heapAtDown = process.memoryUsage().heapUsed;
        const failures: Array<{ error: unknown; waitedMs: number }> = [];
        let maxWaiting = 0;
        const load = Array.from({ length: 64 }, async (_, i) => {
          while (!stop) {
            const t = Date.now();
            const call =
              i % 4 === 0
                ? pool.withChannel(async () => undefined)
                : pool.sendToQueue(q, Buffer.alloc(64 * 1024));
            await call.then(
              () => undefined,
              (error: unknown) => failures.push({ error, waitedMs: Date.now() - t }),
            );
            maxWaiting = Math.max(maxWaiting, pool.stats().waiting);
          }
        });
        while (Date.now() - downAt < 15_000) {
          await sleep(500);
          expect(pool.health().healthy).toBe(false);
        }
        stop = true;
        await Promise.all(load);
        const heapGrowthMb = (process.memoryUsage().heapUsed - heapAtDown) / 1e6;
        const attempts = pool.stats().connectAttempts - attemptsAtDown;

        // Every call waited for its deadline (no fast spin), then failed with the connect error as cause.
        expect(failures.length).toBeGreaterThan(64 * 5);
        const late = failures.filter((f) => f.waitedMs < 900 || f.waitedMs > 3_000);
        expect(late.map((f) => `${f.waitedMs}ms ${String(f.error)}`).slice(0, 5)).toEqual([]);
        for (const { error } of failures) {
          expect((error as { code?: string }).code).toBe('MQ_POOL_ACQUIRE_TIMEOUT');
          expect(String((error as Error).cause)).toMatch(/ECONNREFUSED|ECONNRESET|closed|socket/i);
        }
        // Bounded waiting (maxWaiting) and memory, and a reconnect pace set by the capped backoff (~2/s per connection).
        // 64 callers, plus the publishing lane's own acquire waiting for a channel.
        expect(maxWaiting).toBeLessThanOrEqual(64 + pool.options.publishChannels);
        expect(heapGrowthMb).toBeLessThan(50);
        expect(attempts).toBeGreaterThan(5);
        expect(attempts).toBeLessThan(2 * (15_000 / 250));
        console.log(
          `[outage 15s] ${failures.length} calls failed at their deadline (cause: ${String((failures[0]?.error as Error).cause)}); ` +
            `${attempts} connect attempts over 2 connections; heap growth ${heapGrowthMb.toFixed(1)} MB; max waiting ${maxWaiting}`,
        );

        await node.start();
        restarted = true;
        expect(await eventually(async () => pool.health().healthy, 20_000)).toBe(true);
        await pool.sendToQueue(q, 'after');
        expect(await withAdmin((admin) => queueDepth(admin, q))).toBe(2);
        await pool.withChannel((ch) => ch.deleteQueue(q));
      } finally {
        stop = true;
        await pool.close();
        if (!restarted) await node.start();
      }
    }, 180_000);

    it('kill -9 and restart under 256-way publish load: every publish that resolved is in the queue', async () => {
      const pool = new RabbitMqPool(
        {
          url: node.url,
          connectionName: uniqueName('it-kill9'),
          acquireTimeoutMs: 30_000,
          maxWaiting: 1_000,
        },
        { name: 'kill9', logger: testLogger() },
      );
      let stop = false;
      try {
        await pool.start();
        const q = uniqueName('kill9-q');
        await pool.withChannel((ch) => ch.assertQueue(q, { durable: true }));
        await node.syncMetadata(); // the queue definition must survive the kill (see syncMetadata)
        const resolved = new Set<string>();
        const resolvedAt: number[] = [];
        const failed: unknown[] = [];
        let seq = 0;
        const load = Array.from({ length: 256 }, async () => {
          while (!stop) {
            const id = `k-${seq++}`;
            await pool.sendToQueue(q, id, { messageId: id }).then(
              () => {
                resolved.add(id);
                resolvedAt.push(Date.now());
              },
              (e: unknown) => failed.push(e),
            );
          }
        });
        expect(await eventually(() => resolved.size > 3_000, 30_000)).toBe(true);

        await node.kill9();
        const killedAt = Date.now();
        const restarting = node.start();
        // "Broker back" = its AMQP port accepts connections again.
        let backAt = 0;
        while (backAt === 0) {
          if (await portAccepts(node.port)) backAt = Date.now();
          else await sleep(20);
        }
        await restarting;
        expect(await eventually(() => resolvedAt.some((t) => t > backAt), 30_000)).toBe(true);
        const firstConfirmAfter = (resolvedAt.find((t) => t > backAt) as number) - backAt;
        const target = resolved.size + 2_000;
        expect(await eventually(() => resolved.size > target, 30_000)).toBe(true);
        stop = true;
        await Promise.all(load);

        // Count by consuming: every resolved messageId must be there (duplicates from retries are allowed).
        const inQueue = new Set<string>();
        await withAdmin(async (admin) => {
          const depth = await queueDepth(admin, q);
          const ch = await admin.createChannel();
          await ch.prefetch(1_000);
          await new Promise<void>((resolve) => {
            let seen = 0;
            void ch.consume(
              q,
              (m) => {
                if (!m) return;
                inQueue.add(m.properties.messageId as string);
                if (++seen === depth) resolve();
              },
              { noAck: true },
            );
          });
          await ch.close();
        });
        const missing = [...resolved].filter((id) => !inQueue.has(id));
        expect(missing).toEqual([]);
        for (const e of failed) expect((e as { code?: string }).code).toMatch(/^MQ_POOL_/);
        console.log(
          `[kill -9] broker back ${backAt - killedAt}ms after the kill; first confirmed publish ${firstConfirmAfter}ms after it was back ` +
            `(target <= 1000ms); ${resolved.size} confirmed, all in the queue; ${failed.length} rejected (typed), ${inQueue.size} distinct in queue`,
        );
        expect(firstConfirmAfter).toBeLessThan(5_000);
        await pool.withChannel((ch) => ch.deleteQueue(q));
      } finally {
        stop = true;
        await pool.close();
      }
    }, 240_000);
  },
);

async function portAccepts(port: number): Promise<boolean> {
  const { createConnection } = await import('node:net');
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

import type { ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConnectionUnavailableError, RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import { amqpUrl } from '../../support/broker-env.js';
import {
  adminConnection,
  closeConnectionsNamed,
  eventually,
  NO_RABBITMQCTL,
  rabbitmqctlAvailable,
  sleep,
  testLogger,
  uniqueName,
} from './support/rabbitmq-admin.js';

/**
 * RPC across connections force-closed by the broker (as an operator or a failover would), found by
 * their connection_name: the server re-attaches (re-declaring its queue), the client opens a new
 * reply channel, and requests whose reply can no longer arrive fail at once.
 */
describe('RabbitMQ RPC recovery from broker-closed connections (real broker)', () => {
  let ctl = false;
  let admin: ChannelModel;
  const queues: string[] = [];
  const queueName = (): string => {
    const q = uniqueName('it-rpc-rec-q');
    queues.push(q);
    return q;
  };

  beforeAll(async () => {
    ctl = await rabbitmqctlAvailable();
    admin = await adminConnection(amqpUrl());
  });
  afterAll(async () => {
    const ch = await admin.createChannel();
    for (const q of queues) await ch.deleteQueue(q).catch(() => undefined);
    await admin.close();
  });

  it('after every connection is force-closed the server is re-attached and the client reply channel recreated', async (ctx) => {
    if (!ctl) ctx.skip(NO_RABBITMQCTL);
    const name = uniqueName('it-rpc-rec');
    const pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: name },
      { name: 'rpc-rec', logger: testLogger() },
    );
    try {
      const queue = queueName();
      const server = await pool.serveRpc({ queue }, async (n: number) => n + 1);
      await expect(pool.request('', queue, 1)).resolves.toBe(2);

      expect(await closeConnectionsNamed(name)).toBe(2); // publisher + consumer
      // The queue is deleted meanwhile: the server declares it again when it re-attaches.
      const ch = await admin.createChannel();
      await ch.deleteQueue(queue);
      await ch.close();
      expect(await eventually(() => !server.active, 5_000)).toBe(true);
      expect(await eventually(() => server.active, 15_000)).toBe(true);

      let reply: unknown;
      expect(
        await eventually(async () => {
          reply = await pool.request('', queue, 41, { timeoutMs: 1_000 }).catch(() => undefined);
          return reply !== undefined;
        }, 15_000),
      ).toBe(true);
      expect(reply).toBe(42);
      const replies = await Promise.all(
        Array.from({ length: 20 }, (_, i) => pool.request<number>('', queue, i)),
      );
      expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    } finally {
      await pool.close();
    }
  });

  it("requests awaiting their reply fail at once with ConnectionUnavailableError when the reply channel's connection dies", async (ctx) => {
    if (!ctl) ctx.skip(NO_RABBITMQCTL);
    const clientName = uniqueName('it-rpc-cl');
    const client = new RabbitMqPool(
      { url: amqpUrl(), connectionName: clientName, rpc: { timeoutMs: 20_000 } },
      { name: 'rpc-client', logger: testLogger() },
    );
    const server = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-rpc-sv') },
      { name: 'rpc-server', logger: testLogger() },
    );
    try {
      const queue = queueName();
      let handled = 0;
      await server.serveRpc({ queue, prefetch: 10 }, async () => {
        handled++;
        await sleep(3_000);
        return 'too late for a dead channel';
      });
      const pending = Array.from({ length: 3 }, (_, i) =>
        client.request('', queue, i).catch((e: unknown) => e),
      );
      expect(await eventually(() => handled === 3, 5_000)).toBe(true);
      expect(client.stats().rpc.outstanding).toBe(3);

      const closedAt = Date.now();
      expect(await closeConnectionsNamed(`${clientName}:publisher`)).toBe(1);
      const errors = await Promise.all(pending);
      expect(Date.now() - closedAt).toBeLessThan(2_000);
      for (const error of errors) {
        expect(error).toBeInstanceOf(ConnectionUnavailableError);
        expect((error as Error).message).toContain('reply channel closed');
      }
      expect(client.stats().rpc.outstanding).toBe(0);
      // The replies sent later go to a reply-to that no longer exists: nobody's error.
      await sleep(3_200);
      await expect(client.request('', queue, 'after', { timeoutMs: 10_000 })).resolves.toBe(
        'too late for a dead channel',
      );
    } finally {
      await Promise.all([client.close(), server.close()]);
    }
  });
});

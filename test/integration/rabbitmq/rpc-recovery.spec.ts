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
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      await server.serveRpc({ queue, prefetch: 10 }, async (n: number) => {
        handled++;
        await gate; // no reply until the test says so: only the channel's death can settle the requests
        return n;
      });
      const settledAt: number[] = [];
      const pending = Array.from({ length: 3 }, (_, i) =>
        client.request('', queue, i).catch((e: unknown) => {
          settledAt.push(Date.now());
          return e;
        }),
      );
      expect(await eventually(() => handled === 3, 5_000)).toBe(true);
      expect(client.stats().rpc.outstanding).toBe(3);

      expect(await closeConnectionsNamed(`${clientName}:publisher`)).toBe(1);
      const closedAt = Date.now();
      const errors = await Promise.all(pending);
      // Settled by the close (rabbitmqctl returns after it), not by the 20 s deadline or a reply.
      for (const at of settledAt) expect(at - closedAt).toBeLessThan(2_000);
      for (const error of errors) {
        expect(error).toBeInstanceOf(ConnectionUnavailableError);
        expect((error as Error).message).toContain('reply channel closed');
      }
      expect(client.stats().rpc).toMatchObject({ outstanding: 0, timeouts: 0 });
      // The replies sent now go to a reply-to that no longer exists: nobody's error.
      release();
      await expect(client.request('', queue, 7, { timeoutMs: 10_000 })).resolves.toBe(7);
      expect(client.stats().rpc.lateReplies).toBe(0);
    } finally {
      await Promise.all([client.close(), server.close()]);
    }
  });
});

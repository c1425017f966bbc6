import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RabbitMqPool, TopologyMismatchError } from '../../../lib/rabbitmq/index.js';
import { amqpUrl } from '../../support/broker-env.js';
import { DeclaredEntities } from './support/declared-entities.js';
import {
  NO_RABBITMQCTL,
  closeConnectionsNamed,
  eventually,
  rabbitmqctlAvailable,
  testLogger,
  uniqueName,
} from './support/rabbitmq-admin.js';

/** `rabbitmq.topology`: declared by `start()` and again after reconnects (real broker). */
describe('RabbitMqPool topology (real broker)', () => {
  const entities = new DeclaredEntities();
  let ctl = false;

  beforeAll(async () => {
    await entities.open(amqpUrl());
    ctl = await rabbitmqctlAvailable();
  });
  afterAll(async () => {
    await entities.close();
  });

  /** A topic exchange, a quorum queue with dead-letter arguments, its dead-letter queue, a binding. */
  function names() {
    const exchange = uniqueName('it-topo-x');
    const queue = uniqueName('it-topo-q');
    const dlq = `${queue}.dead`;
    entities.exchange(exchange);
    entities.queue(queue, dlq);
    return { exchange, queue, dlq };
  }

  it('declares exchanges, queues (quorum, dead-letter arguments) and bindings before start() resolves', async () => {
    const { exchange, queue, dlq } = names();
    const pool = new RabbitMqPool(
      {
        url: amqpUrl(),
        connectionName: uniqueName('it-topo'),
        topology: {
          exchanges: [{ name: exchange, type: 'topic' }],
          queues: [
            { name: dlq },
            {
              name: queue,
              type: 'quorum',
              options: {
                arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq },
              },
            },
          ],
          bindings: [{ exchange, queue, routingKey: 'orders.#' }],
        },
      },
      { name: 'topology', logger: testLogger() },
    );
    try {
      await pool.start();
      // The declaring lease went back to the pool.
      expect(pool.stats().channels).toMatchObject({ total: 1, idle: 1, leased: 0 });
      expect(await entities.exchangeExists(exchange)).toBe(true);
      expect(await entities.queueExists(queue)).toBe(true);
      expect(await entities.queueExists(dlq)).toBe(true);
      // The queue is a quorum queue with the dead-letter arguments: declaring it otherwise conflicts.
      await expect(
        entities.withChannel((ch) => ch.assertQueue(queue, { durable: true })),
      ).rejects.toMatchObject({ code: 406 });
      await expect(
        entities.withChannel((ch) =>
          ch.assertQueue(queue, {
            durable: true,
            arguments: {
              'x-queue-type': 'quorum',
              'x-dead-letter-exchange': '',
              'x-dead-letter-routing-key': dlq,
            },
          }),
        ),
      ).resolves.toMatchObject({ queue });
      // The binding routes.
      await pool.publish(exchange, 'orders.created', { id: 1 });
      const got = await entities.take(queue);
      expect(got?.fields.routingKey).toBe('orders.created');
      expect(pool.health().healthy).toBe(true);
    } finally {
      await pool.close();
    }
  });

  it('a conflict with the broker fails start() with TopologyMismatchError naming entity and argument; the channel is destroyed', async () => {
    const { queue } = names();
    await entities.withChannel((ch) => ch.assertQueue(queue, { durable: true }));
    const pool = new RabbitMqPool(
      {
        url: amqpUrl(),
        connectionName: uniqueName('it-topo-conflict'),
        topology: { queues: [{ name: queue, type: 'quorum' }] },
      },
      { name: 'topology-conflict', logger: testLogger() },
    );
    try {
      const error = await pool.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(TopologyMismatchError);
      expect(error).toMatchObject({
        code: 'MQ_TOPOLOGY_MISMATCH',
        entity: { kind: 'queue', name: queue },
        argument: 'x-queue-type',
      });
      expect((error as Error).message).toContain(queue);
      // The channel the broker closed with 406 is not kept in the pool.
      expect(await eventually(() => pool.stats().channels.total === 0, 2_000)).toBe(true);
      expect(pool.health()).toMatchObject({ healthy: false });
      expect(pool.health().reason).toContain('topology');
      // The pool itself still works.
      await pool.sendToQueue(queue, 'still publishing');
      expect(await entities.take(queue)).toBeDefined();
    } finally {
      await pool.close();
    }
  });

  it('is declared again after the connections are force-closed, before subscriptions re-attach', async (ctx) => {
    if (!ctl) ctx.skip(NO_RABBITMQCTL);
    const { exchange, queue } = names();
    const handlerQueue = uniqueName('it-topo-h');
    entities.queue(handlerQueue, `${handlerQueue}.dlq`);
    const connectionName = uniqueName('it-topo-rec');
    const pool = new RabbitMqPool(
      {
        url: amqpUrl(),
        connectionName,
        reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
        topology: {
          exchanges: [{ name: exchange, type: 'topic', options: { durable: true } }],
          queues: [{ name: queue }],
          bindings: [{ exchange, queue, routingKey: '#' }],
        },
      },
      { name: 'topology-recover', logger: testLogger() },
    );
    try {
      await pool.start();
      // A subscription bound to the topology's exchange: its re-attach needs the exchange back.
      const received: unknown[] = [];
      const sub = await pool.subscribe(
        { queue: handlerQueue, exchange, routingKey: 'h.*' },
        async (payload) => void received.push(payload),
      );
      // An operator deletes both, then the broker drops the pool's connections.
      await entities.withChannel(async (ch) => {
        await ch.deleteQueue(queue);
        await ch.deleteQueue(handlerQueue);
        await ch.deleteExchange(exchange);
      });
      expect(await entities.queueExists(queue)).toBe(false);
      expect(await closeConnectionsNamed(connectionName)).toBe(2);

      expect(await eventually(() => entities.queueExists(queue), 10_000)).toBe(true);
      expect(await entities.exchangeExists(exchange)).toBe(true);
      expect(await eventually(() => sub.active, 10_000)).toBe(true);
      await pool.publish(exchange, 'h.1', { n: 1 });
      expect(await eventually(() => received.length === 1, 5_000)).toBe(true);
      // The topology's own binding is back too.
      expect(await entities.take(queue)).toBeDefined();
      await sub.cancel();
    } finally {
      await pool.close();
    }
  });
});

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Options } from 'amqplib';
import { RabbitMqPool, UnroutableMessageError } from '../../../lib/rabbitmq/index.js';
import {
  NOOP_RABBITMQ_METRICS,
  type PublishErrorReason,
} from '../../../lib/rabbitmq/rabbitmq-metrics.js';
import { amqpUrl } from '../../support/broker-env.js';
import { queueDepth, TestQueues, testLogger, uniqueName } from './support/rabbitmq-admin.js';

/**
 * What one publish can do to others on the real broker: a basic.return must land on the publish it
 * belongs to (messageIds are the caller's, not unique), a message amqplib refuses to encode must fail
 * alone without costing the publishing channel, and a publishing channel the broker closed must never
 * be handed to anyone else.
 */
describe('RabbitMqPool publish isolation (real broker)', () => {
  const queues = new TestQueues('pub-iso-q');
  const pools: RabbitMqPool[] = [];

  function newPool(
    options: Partial<ConstructorParameters<typeof RabbitMqPool>[0]> = {},
    errors?: PublishErrorReason[],
  ) {
    const logger = testLogger();
    const pool = new RabbitMqPool(
      {
        url: amqpUrl(),
        consumerConnections: 0,
        connectionName: uniqueName('it-pub-iso'),
        ...options,
      },
      {
        name: 'isolation',
        logger,
        ...(errors
          ? { metrics: { ...NOOP_RABBITMQ_METRICS, publishError: (r) => errors.push(r) } }
          : {}),
      },
    );
    pools.push(pool);
    return { pool, logger };
  }

  beforeAll(async () => {
    await queues.open(amqpUrl());
  });

  afterEach(async () => {
    for (const pool of pools.splice(0)) await pool.close();
  });

  afterAll(async () => {
    await queues.close();
  });

  it('two in-flight mandatory publishes with one messageId: only the unroutable one fails', async () => {
    const { pool } = newPool();
    await pool.start();
    const q = await queues.fresh();
    const show = (p: Promise<void>) =>
      p.then(
        () => 'sent',
        (e: unknown) => e,
      );
    // Same business id fanned out to two routing keys; the first has no queue.
    const nowhere = show(
      pool.publish(
        '',
        uniqueName('it-pub-iso-none'),
        { id: 1 },
        { mandatory: true, messageId: 'evt-1' },
      ),
    );
    const routed = show(pool.publish('', q, { id: 1 }, { mandatory: true, messageId: 'evt-1' }));
    expect(await nowhere).toBeInstanceOf(UnroutableMessageError);
    expect(await routed).toBe('sent');
    expect(await queueDepth(queues.admin, q)).toBe(1);
  });

  it('a message amqplib refuses to encode fails at once with its TypeError/RangeError; the channel keeps publishing', async () => {
    const errors: PublishErrorReason[] = [];
    const { pool, logger } = newPool({}, errors);
    await pool.start();
    const q = await queues.fresh();
    await pool.sendToQueue(q, 'warm');
    const bad: Array<[Partial<Options.Publish>, ErrorConstructor]> = [
      [{ timestamp: new Date() as unknown as number }, TypeError],
      [{ correlationId: 42 as unknown as string }, TypeError],
      [{ priority: 'high' as unknown as number }, TypeError],
      [{ headers: { n: 10n } }, TypeError],
      [{ headers: { big: 'x'.repeat(70_000) } }, RangeError],
    ];
    for (const [options, type] of bad) {
      const startedAt = Date.now();
      const error = await pool.sendToQueue(q, { a: 1 }, options).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(type);
      expect(Date.now() - startedAt).toBeLessThan(1_000);
    }
    expect(errors).toEqual(bad.map(() => 'invalid'));
    // Not mistaken for a dead channel: none was replaced, and publishing goes on.
    expect(logger.lines.filter((l) => l.includes('publishing channel closed'))).toEqual([]);
    await pool.sendToQueue(q, 'after');
    expect(await queueDepth(queues.admin, q)).toBe(2);
    expect(pool.stats().publisher).toMatchObject({ channels: 1, inFlight: 0, waiting: 0 });
  });

  it('a publishing channel the broker closed is not handed to the next acquire() waiter', async () => {
    // One connection, two channels: the lane holds one, the test the other, a third caller waits.
    const { pool } = newPool({ connections: 1, channelsPerConnection: 2, publishChannels: 1 });
    await pool.start();
    const q = await queues.fresh();
    await pool.sendToQueue(q, 'warm');
    const held = await pool.acquire();
    const waiter = pool.withChannel(async (ch) => (await ch.checkQueue(q)).messageCount);
    await new Promise((r) => setTimeout(r, 50));
    // 404: the broker closes the lane's channel.
    await expect(
      pool.publish(uniqueName('it-pub-iso-missing-exchange'), 'k', Buffer.from('x')),
    ).rejects.toThrow(/NOT_FOUND/);
    // The waiter gets a live channel (not the closed one back from the lane).
    await expect(waiter).resolves.toBe(1);
    held.release();
    await pool.sendToQueue(q, 'after');
    expect(await queueDepth(queues.admin, q)).toBe(2);
  });
});

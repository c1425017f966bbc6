import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NonRetriableError } from '../../../lib/core/errors/non-retriable.error.js';
import { RabbitMqPool, type RabbitMessage } from '../../../lib/rabbitmq/index.js';
import {
  NOOP_RABBITMQ_METRICS,
  type RabbitMqMetricsRecorder,
} from '../../../lib/rabbitmq/rabbitmq-metrics.js';
import { amqpUrl } from '../../support/broker-env.js';
import { DeclaredEntities } from './support/declared-entities.js';
import { eventually, queueDepth, sleep, testLogger, uniqueName } from './support/rabbitmq-admin.js';

class InvalidOrderError extends NonRetriableError {
  override readonly code = 'ORDER_INVALID';
}

/** `subscribe()`: retries through delay queues, then the dead-letter target (real broker). */
describe('RabbitMqPool.subscribe retries and dead letters (real broker)', () => {
  let pool: RabbitMqPool;
  const entities = new DeclaredEntities();
  const counted: Array<[string, string]> = [];
  const metrics: RabbitMqMetricsRecorder = {
    ...NOOP_RABBITMQ_METRICS,
    handled: (q) => void counted.push(['handled', q]),
    handlerFailed: (q) => void counted.push(['failed', q]),
    retried: (q) => void counted.push(['retried', q]),
    deadLettered: (q) => void counted.push(['deadLettered', q]),
    discarded: (q) => void counted.push(['discarded', q]),
  };
  const count = (what: string, q: string): number =>
    counted.filter(([w, name]) => w === what && name === q).length;

  /** A handler queue name, with the queues the library derives from it registered for deletion. */
  const handlerQueue = (delays: number[] = []): string => {
    const q = uniqueName('it-sub');
    entities.queue(q, `${q}.dlq`, ...delays.map((d) => `${q}.retry.${d}`));
    return q;
  };

  beforeAll(async () => {
    await entities.open(amqpUrl());
    pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-subscribe') },
      { name: 'subscribe', logger: testLogger(), metrics },
    );
    await pool.start();
  });

  afterAll(async () => {
    await pool?.close();
    await entities.close();
  });

  it('hands the decoded payload and the message; resolve acks', async () => {
    const q = handlerQueue();
    const got: Array<{ payload: unknown; message: RabbitMessage }> = [];
    const sub = await pool.subscribe<{ id: number }>({ queue: q }, async (payload, message) => {
      got.push({ payload, message });
    });
    expect(sub.active).toBe(true);
    await pool.sendToQueue(q, { id: 7 }, { messageId: 'm-7', headers: { tenant: 'a' } });
    expect(await eventually(() => got.length === 1, 5_000)).toBe(true);
    expect(got[0]!.payload).toEqual({ id: 7 });
    expect(got[0]!.message).toMatchObject({
      messageId: 'm-7',
      attempt: 1,
      redelivered: false,
      headers: { tenant: 'a' },
    });
    expect(await eventually(async () => (await queueDepth(entities.admin, q)) === 0, 2_000)).toBe(
      true,
    );
    expect(count('handled', q)).toBe(1);
    await sub.cancel();
  });

  it('retries at the configured delays, then dead-letters with the original and x-mq-* headers', async () => {
    const delays = [200, 400];
    const q = handlerQueue(delays);
    const seen: Array<{ at: number; attempt: number }> = [];
    const sub = await pool.subscribe(
      { queue: q, retry: { attempts: 3, delayMs: delays } },
      async (_payload, message) => {
        seen.push({ at: Date.now(), attempt: message.attempt });
        throw Object.assign(new Error('downstream unavailable'), { code: 'DOWNSTREAM' });
      },
    );
    // Delay queues exist before the first failure: one per distinct delay.
    expect(await entities.queueExists(`${q}.retry.200`)).toBe(true);
    expect(await entities.queueExists(`${q}.retry.400`)).toBe(true);

    await pool.sendToQueue(
      q,
      { id: 1 },
      { messageId: 'order-1', headers: { tenant: 'acme' }, correlationId: 'c-1' },
    );
    const dead = await entities.take(`${q}.dlq`, 5_000);
    expect(dead).toBeDefined();
    expect(seen.map((s) => s.attempt)).toEqual([1, 2, 3]);
    const gaps = [seen[1]!.at - seen[0]!.at, seen[2]!.at - seen[1]!.at];
    console.log(
      `[subscribe] retry delays configured ${delays.join('/')}ms, measured ${gaps.join('/')}ms`,
    );
    // TTL expiry runs on the broker's timer: never early, and late by at most a few hundred ms.
    expect(gaps[0]).toBeGreaterThanOrEqual(195);
    expect(gaps[0]).toBeLessThan(200 + 500);
    expect(gaps[1]).toBeGreaterThanOrEqual(395);
    expect(gaps[1]).toBeLessThan(400 + 500);

    const headers = dead!.properties.headers as Record<string, unknown>;
    expect(JSON.parse(dead!.content.toString())).toEqual({ id: 1 });
    expect(dead!.properties.messageId).toBe('order-1');
    expect(dead!.properties.correlationId).toBe('c-1');
    expect(headers).toMatchObject({
      tenant: 'acme',
      'x-mq-error': 'Error: downstream unavailable',
      'x-mq-error-code': 'DOWNSTREAM',
      'x-mq-attempts': 3,
      'x-mq-original-queue': q,
      'x-mq-original-exchange': '',
      'x-mq-original-routing-key': q,
    });
    expect(Date.parse(headers['x-mq-failed-at'] as string)).toBeGreaterThan(Date.now() - 10_000);
    expect(headers['x-mq-attempt']).toBeUndefined();
    expect(headers['x-death']).toBeUndefined();
    expect(count('failed', q)).toBe(3);
    expect(count('retried', q)).toBe(2);
    // Counted once the broker confirmed the dead letter, which may be just after it is readable.
    expect(await eventually(() => count('deadLettered', q) === 1, 2_000)).toBe(true);
    // Nothing left behind: handler and delay queues empty.
    for (const name of [q, `${q}.retry.200`, `${q}.retry.400`]) {
      expect(await queueDepth(entities.admin, name)).toBe(0);
    }
    await sub.cancel();
  });

  it('dead-letters a NonRetriableError at once, with its code', async () => {
    const q = handlerQueue([100]);
    let calls = 0;
    const sub = await pool.subscribe(
      { queue: q, retry: { attempts: 5, delayMs: 100 } },
      async () => {
        calls++;
        throw new InvalidOrderError('order has no lines');
      },
    );
    await pool.sendToQueue(q, { id: 2 });
    const dead = await entities.take(`${q}.dlq`);
    expect(dead?.properties.headers).toMatchObject({
      'x-mq-error': 'InvalidOrderError: order has no lines',
      'x-mq-error-code': 'ORDER_INVALID',
      'x-mq-attempts': 1,
    });
    await sleep(300); // a retry would have come back by now
    expect(calls).toBe(1);
    await sub.cancel();
  });

  it('dead-letters an undecodable JSON payload without calling the handler or retrying', async () => {
    const q = handlerQueue([100]);
    let calls = 0;
    const sub = await pool.subscribe(
      { queue: q, retry: { attempts: 3, delayMs: 100 } },
      async () => void calls++,
    );
    await pool.sendToQueue(q, Buffer.from('{"id": 3,'), { contentType: 'application/json' });
    const dead = await entities.take(`${q}.dlq`);
    expect(dead?.content.toString()).toBe('{"id": 3,');
    expect(dead?.properties.contentType).toBe('application/json');
    expect(dead?.properties.headers).toMatchObject({
      'x-mq-error-code': 'MQ_PAYLOAD_UNDECODABLE',
      'x-mq-attempts': 1,
    });
    await sleep(300);
    expect(calls).toBe(0);
    await sub.cancel();
  });

  it('a poison message does not block the one behind it', async () => {
    const q = handlerQueue([2_000]);
    const handled: string[] = [];
    const sub = await pool.subscribe(
      { queue: q, prefetch: 1, retry: { attempts: 2, delayMs: 2_000 } },
      async (payload: { kind: string }) => {
        if (payload.kind === 'poison') throw new Error('poison');
        handled.push(payload.kind);
      },
    );
    const sentAt = Date.now();
    await pool.sendToQueue(q, { kind: 'poison' });
    await pool.sendToQueue(q, { kind: 'good' });
    expect(await eventually(() => handled.includes('good'), 5_000)).toBe(true);
    // Handled while the poison message waits out its delay, not after it.
    expect(Date.now() - sentAt).toBeLessThan(1_500);
    expect(await queueDepth(entities.admin, `${q}.retry.2000`)).toBe(1);
    await sub.cancel();
  });

  it('dead-letters to an exchange with the original routing key', async () => {
    const q = handlerQueue();
    const source = uniqueName('it-sub-src');
    const dlx = uniqueName('it-sub-dlx');
    const dlxQueue = uniqueName('it-sub-dlx-q');
    entities.exchange(source, dlx);
    entities.queue(dlxQueue);
    await entities.withChannel(async (ch) => {
      await ch.assertExchange(source, 'topic', { durable: false });
      await ch.assertExchange(dlx, 'topic', { durable: false });
      await ch.assertQueue(dlxQueue, { durable: false });
      await ch.bindQueue(dlxQueue, dlx, 'orders.created');
    });
    const sub = await pool.subscribe(
      { queue: q, exchange: source, routingKey: 'orders.*', deadLetter: { exchange: dlx } },
      async () => {
        throw new Error('nope');
      },
    );
    await pool.publish(source, 'orders.created', { id: 4 });
    const dead = await entities.take(dlxQueue);
    expect(dead?.fields.routingKey).toBe('orders.created');
    expect(dead?.properties.headers).toMatchObject({
      'x-mq-original-exchange': source,
      'x-mq-original-routing-key': 'orders.created',
      'x-mq-original-queue': q,
    });
    expect(await entities.queueExists(`${q}.dlq`)).toBe(false);
    await sub.cancel();
  });

  it('deadLetter: false acks and drops after the last attempt, and counts it', async () => {
    const q = handlerQueue();
    let calls = 0;
    const sub = await pool.subscribe({ queue: q, deadLetter: false }, async () => {
      calls++;
      throw new Error('drop me');
    });
    await pool.sendToQueue(q, { id: 5 });
    expect(await eventually(() => count('discarded', q) === 1, 5_000)).toBe(true);
    expect(count('deadLettered', q)).toBe(0);
    expect(calls).toBe(1);
    expect(await queueDepth(entities.admin, q)).toBe(0);
    expect(await entities.queueExists(`${q}.dlq`)).toBe(false);
    await sub.cancel();
  });

  it('a dead letter the broker cannot route is requeued (not lost, not looping hot) until it can be', async () => {
    const q = handlerQueue();
    const dlx = uniqueName('it-sub-unroutable');
    const dlxQueue = uniqueName('it-sub-unroutable-q');
    entities.exchange(dlx);
    entities.queue(dlxQueue);
    await entities.withChannel((ch) => ch.assertExchange(dlx, 'direct', { durable: false }));
    const slow = new RabbitMqPool(
      {
        url: amqpUrl(),
        connectionName: uniqueName('it-sub-requeue'),
        reconnect: { initialDelayMs: 50, maxDelayMs: 300 },
      },
      { name: 'subscribe-requeue', logger: testLogger() },
    );
    try {
      let calls = 0;
      await slow.subscribe(
        { queue: q, deadLetter: { exchange: dlx, routingKey: 'dead' } },
        async () => {
          calls++;
          throw new NonRetriableError('cannot handle');
        },
      );
      await slow.sendToQueue(q, { id: 8 });
      await sleep(1_000);
      // Requeued after each failed copy, paced by reconnect.maxDelayMs (300 ms): a few runs, not thousands.
      expect(calls).toBeGreaterThanOrEqual(2);
      expect(calls).toBeLessThanOrEqual(5);
      // Once the dead-letter exchange routes somewhere, the message lands there.
      await entities.withChannel(async (ch) => {
        await ch.assertQueue(dlxQueue, { durable: false });
        await ch.bindQueue(dlxQueue, dlx, 'dead');
      });
      const dead = await entities.take(dlxQueue);
      expect(dead?.properties.headers).toMatchObject({
        'x-mq-error': 'NonRetriableError: cannot handle',
      });
      expect(await eventually(async () => (await queueDepth(entities.admin, q)) === 0, 2_000)).toBe(
        true,
      );
    } finally {
      await slow.close();
    }
  });

  it('a handler queue that exists with other properties rejects subscribe() with TopologyMismatchError', async () => {
    const q = handlerQueue();
    await entities.withChannel((ch) => ch.assertQueue(q, { durable: true }));
    const consumersBefore = pool.stats().consumers.total;
    await expect(
      pool.subscribe({ queue: q, queueOptions: { type: 'quorum' } }, async () => undefined),
    ).rejects.toMatchObject({
      code: 'MQ_TOPOLOGY_MISMATCH',
      entity: { kind: 'queue', name: q },
      argument: 'x-queue-type',
    });
    expect(pool.stats().consumers.total).toBe(consumersBefore);
  });

  it('a quorum handler queue gets a quorum dead-letter queue', async () => {
    const q = handlerQueue();
    const sub = await pool.subscribe({ queue: q, queueOptions: { type: 'quorum' } }, async () => {
      throw new NonRetriableError('bad');
    });
    await pool.sendToQueue(q, { id: 6 });
    expect(await entities.take(`${q}.dlq`)).toBeDefined();
    // Declaring it classic now conflicts: it is a quorum queue.
    await expect(
      entities.withChannel((ch) =>
        ch.assertQueue(`${q}.dlq`, { durable: true, arguments: { 'x-queue-type': 'classic' } }),
      ),
    ).rejects.toMatchObject({ code: 406 });
    await sub.cancel();
  });
});

import type { Message } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PublishFailedError,
  PublishRejectedError,
  RabbitMqPool,
  UnroutableMessageError,
} from '../../../lib/rabbitmq/index.js';
import { amqpUrl } from '../../support/broker-env.js';
import { queueDepth, TestQueues, testLogger, uniqueName } from './support/rabbitmq-admin.js';

describe('RabbitMqPool publishing (real broker)', () => {
  let pool: RabbitMqPool;
  const queues = new TestQueues('pub-q');
  const freshQueue = (args?: Record<string, unknown>): Promise<string> => queues.fresh(args);
  const exchanges: string[] = [];

  async function drainQueue(q: string): Promise<Message[]> {
    const ch = await queues.admin.createChannel();
    const out: Message[] = [];
    for (;;) {
      const m = await ch.get(q, { noAck: true });
      if (m === false) break;
      out.push(m);
    }
    await ch.close();
    return out;
  }

  beforeAll(async () => {
    await queues.open(amqpUrl());
    pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-publish') },
      { name: 'publish', logger: testLogger() },
    );
    await pool.start();
  });

  afterAll(async () => {
    await pool?.close();
    const ch = await queues.admin.createChannel();
    for (const e of exchanges) await ch.deleteExchange(e).catch(() => undefined);
    await queues.close();
  });

  it('resolves only after the broker confirmed: every resolved publish is in the queue', async () => {
    const q = await freshQueue();
    await Promise.all(Array.from({ length: 500 }, (_, i) => pool.sendToQueue(q, { i })));
    expect(await queueDepth(queues.admin, q)).toBe(500);
    expect(pool.stats().publisher.inFlight).toBe(0);
  });

  it('keeps call order for publishes not awaited one by one (one publishing channel by default)', async () => {
    const q = await freshQueue();
    await Promise.all(Array.from({ length: 1000 }, (_, i) => pool.sendToQueue(q, String(i))));
    const order = (await drainQueue(q)).map((m) => Number(m.content.toString()));
    expect(order).toEqual(Array.from({ length: 1000 }, (_, i) => i));
  });

  it('encodes Buffer, string and JSON content, sets content type, persistence and a messageId', async () => {
    const q = await freshQueue();
    await pool.sendToQueue(q, Buffer.from([1, 2, 3]));
    await pool.sendToQueue(q, 'héllo');
    await pool.sendToQueue(q, { a: 1 }, { messageId: 'given-id', headers: { h: 'x' } });
    const [buf, str, json] = await drainQueue(q);
    expect(buf?.content).toEqual(Buffer.from([1, 2, 3]));
    expect(buf?.properties.contentType).toBeUndefined();
    expect(str?.content.toString('utf8')).toBe('héllo');
    expect(str?.properties.contentType).toBe('text/plain; charset=utf-8');
    expect(JSON.parse(json?.content.toString('utf8') ?? '')).toEqual({ a: 1 });
    expect(json?.properties.contentType).toBe('application/json');
    expect(json?.properties.messageId).toBe('given-id');
    expect(json?.properties.headers).toMatchObject({ h: 'x' });
    for (const m of [buf, str]) expect(m?.properties.messageId).toMatch(/^mqp\./);
    expect(buf?.properties.messageId).not.toBe(str?.properties.messageId);
    expect(buf?.properties.deliveryMode).toBe(2);
  });

  it('rejects with PublishRejectedError when the broker nacks (x-max-length + reject-publish)', async () => {
    const q = await freshQueue({ 'x-max-length': 5, 'x-overflow': 'reject-publish' });
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) => pool.sendToQueue(q, { i })),
    );
    const ok = results.filter((r) => r.status === 'fulfilled').length;
    const rejected = results
      .filter((r) => r.status === 'rejected')
      .map((r) => (r as PromiseRejectedResult).reason as unknown);
    expect(ok).toBe(5);
    expect(rejected).toHaveLength(15);
    for (const e of rejected) {
      expect(e).toBeInstanceOf(PublishRejectedError);
      expect((e as PublishRejectedError).code).toBe('MQ_POOL_PUBLISH_REJECTED');
    }
    expect(await queueDepth(queues.admin, q)).toBe(5);
    // A nack does not close the channel: publishing goes on.
    await pool.sendToQueue(await freshQueue(), 'after nacks');
  });

  it('a publish to a missing exchange among 100 concurrent good ones fails alone', async () => {
    const q = await freshQueue();
    const missing = uniqueName('no-such-exchange');
    const good = Array.from({ length: 100 }, (_, i) => pool.sendToQueue(q, { i }));
    const bad = pool.publish(missing, 'rk', 'lost');
    const more = Array.from({ length: 100 }, (_, i) => pool.sendToQueue(q, { j: i }));
    const badResult = await bad.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(badResult).toBeInstanceOf(PublishFailedError);
    expect((badResult as PublishFailedError).replyCode).toBe(404);
    expect((badResult as PublishFailedError).exchange).toBe(missing);
    const settled = await Promise.allSettled([...good, ...more]);
    expect(settled.filter((r) => r.status === 'rejected')).toEqual([]);
    // Innocent publishes that shared the killed channel were retried with their messageId: deduplicate.
    const ids = new Set((await drainQueue(q)).map((m) => m.properties.messageId as string));
    expect(ids.size).toBe(200);
  });

  it('a mandatory publish nobody is bound for fails with UnroutableMessageError; routed ones succeed', async () => {
    const ex = uniqueName('pub-ex');
    exchanges.push(ex);
    const ch = await queues.admin.createChannel();
    await ch.assertExchange(ex, 'direct', { durable: false, autoDelete: false });
    const q = await freshQueue();
    await ch.bindQueue(q, ex, 'bound');
    await ch.close();
    const unroutable = await pool
      .publish(ex, 'nobody', 'x', { mandatory: true })
      .catch((e: unknown) => e);
    expect(unroutable).toBeInstanceOf(UnroutableMessageError);
    expect((unroutable as UnroutableMessageError).replyCode).toBe(312);
    await pool.publish(ex, 'bound', 'y', { mandatory: true });
    // Without mandatory the broker drops it silently and confirms: resolved, as amqplib would.
    await pool.publish(ex, 'nobody', 'z');
    expect(await queueDepth(queues.admin, q)).toBe(1);
  });

  it('rejects content that is not JSON-serialisable without sending anything', async () => {
    const q = await freshQueue();
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(pool.sendToQueue(q, cyclic)).rejects.toThrow(TypeError);
    await expect(pool.sendToQueue(q, { big: 1n } as unknown as object)).rejects.toThrow(TypeError);
    expect(await queueDepth(queues.admin, q)).toBe(0);
  });

  it('aborting a publish that waits for a channel rejects it with the signal reason', async () => {
    const fresh = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-abort') },
      { name: 'abort' },
    );
    try {
      const q = await freshQueue();
      const ac = new AbortController();
      // Not started: the first publish has to wait for a connection and a channel.
      const p = fresh.sendToQueue(q, 'x', { signal: ac.signal });
      ac.abort(new Error('caller gave up'));
      await expect(p).rejects.toThrow('caller gave up');
      const aborted = new AbortController();
      aborted.abort(new Error('already'));
      await expect(fresh.sendToQueue(q, 'y', { signal: aborted.signal })).rejects.toThrow(
        'already',
      );
    } finally {
      await fresh.close();
    }
  });
});

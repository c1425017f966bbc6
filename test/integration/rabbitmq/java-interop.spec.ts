import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel, ConsumeMessage, GetMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import type { RabbitMessage } from '../../../lib/rabbitmq/rabbit-message.js';
import { amqpUrl } from '../../support/broker-env.js';
import { javaClasspath, runJava, startJavaServer } from './support/java-client.js';
import { adminConnection, eventually, testLogger, uniqueName } from './support/rabbitmq-admin.js';

/**
 * Interoperability with a client nobody here wrote: the official RabbitMQ Java client
 * (com.rabbitmq:amqp-client, test/interop/java/AmqpInterop.java) calls a serveRpc handler, answers
 * request(), and publishes JSON a subscribe handler receives. The first block checks the Java
 * program itself against raw amqplib, so a failure in the second block is the pool's.
 */
const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';
const STATUS_HEADER = 'x-mq-rpc-status';

describe('interoperability with the RabbitMQ Java client (real broker)', () => {
  let classpath: string;
  let admin: ChannelModel;
  let adminChannel: Channel;
  const queues: string[] = [];
  const exchanges: string[] = [];
  const freshName = (prefix: string, list: string[]): string => {
    const name = uniqueName(prefix);
    list.push(name);
    return name;
  };

  beforeAll(async () => {
    classpath = await javaClasspath();
    admin = await adminConnection(amqpUrl());
    adminChannel = await admin.createChannel();
  }, 600_000);

  afterAll(async () => {
    if (!admin) return;
    const ch = await admin.createChannel();
    for (const q of queues) await ch.deleteQueue(q).catch(() => undefined);
    for (const x of exchanges) await ch.deleteExchange(x).catch(() => undefined);
    await admin.close();
  });

  describe('the Java program speaks the wire format (checked with raw amqplib)', () => {
    it('publish: a confirmed, persistent JSON message with its messageId', async () => {
      const queue = freshName('java-pub-raw', queues);
      await adminChannel.assertQueue(queue, { durable: true });
      const run = await runJava(classpath, [
        'publish',
        '',
        queue,
        '{"n":1,"s":"caf\\u00e9"}',
        'm-1',
      ]);
      expect(run.code, run.stderr).toBe(0);
      const msg = await adminChannel.get(queue, { noAck: true });
      expect(msg).not.toBe(false);
      const { content, properties } = msg as GetMessage;
      expect(JSON.parse(content.toString('utf8'))).toEqual({ n: 1, s: 'café' });
      expect(properties).toMatchObject({
        contentType: 'application/json',
        deliveryMode: 2,
        messageId: 'm-1',
        headers: { 'x-sent-by': 'amqp-client-java' },
      });
    });

    it('publish: an unroutable message fails (exit 3), not silently', async () => {
      const run = await runJava(classpath, ['publish', '', uniqueName('nowhere'), '{}', 'm-2']);
      expect(run.code).toBe(3);
    });

    it('serve: answers a direct reply-to request with its correlation id and status "ok"', async () => {
      const queue = freshName('java-serve-raw', queues);
      const server = startJavaServer(classpath, queue, 1);
      await server.ready;
      const ch = await admin.createChannel();
      const correlationId = randomUUID();
      let onReply: (reply: ConsumeMessage) => void = () => undefined;
      const reply = new Promise<ConsumeMessage>((resolve) => (onReply = resolve));
      // Direct reply-to: the channel consumes the pseudo-queue before it publishes.
      await ch.consume(DIRECT_REPLY_TO, (m) => m && onReply(m), { noAck: true });
      ch.sendToQueue(queue, Buffer.from(JSON.stringify({ q: 'é' })), {
        replyTo: DIRECT_REPLY_TO,
        correlationId,
        contentType: 'application/json',
      });
      const answer = await reply;
      expect(answer.properties.correlationId).toBe(correlationId);
      expect(answer.properties.contentType).toBe('application/json');
      expect(answer.properties.headers?.[STATUS_HEADER]).toBe('ok');
      expect(JSON.parse(answer.content.toString('utf8'))).toEqual({
        echo: { q: 'é' },
        server: 'java',
      });
      const run = await server.done;
      expect(run.code, run.stderr).toBe(0);
      expect(run.lines).toContainEqual({
        request: expect.objectContaining({ correlationId, contentType: 'application/json' }),
      });
      await ch.close();
    });

    it('call: sends a direct reply-to request and prints the reply with its status', async () => {
      const queue = freshName('java-call-raw', queues);
      const ch = await admin.createChannel();
      await ch.assertQueue(queue, { durable: false });
      let request: ConsumeMessage | undefined;
      await ch.consume(queue, (m) => {
        if (!m) return;
        request = m;
        ch.sendToQueue(m.properties.replyTo as string, Buffer.from('{"sum":5}'), {
          correlationId: m.properties.correlationId as string,
          contentType: 'application/json',
          headers: { [STATUS_HEADER]: 'ok' },
        });
        ch.ack(m);
      });
      const run = await runJava(classpath, ['call', '', queue, '{"a":2,"b":3}']);
      expect(run.code, run.stderr).toBe(0);
      expect(run.lines).toHaveLength(1);
      expect(run.lines[0]).toMatchObject({ status: 'ok', contentType: 'application/json' });
      expect(JSON.parse(run.lines[0]?.body as string)).toEqual({ sum: 5 });
      expect(String(request?.properties.replyTo)).toMatch(/^amq\.rabbitmq\.reply-to/);
      expect(request?.properties.contentType).toBe('application/json');
      expect(JSON.parse(request?.content.toString() ?? '')).toEqual({ a: 2, b: 3 });
      await ch.close();
    });

    it('call: exits 4 when no reply comes within its timeout', async () => {
      const queue = freshName('java-call-silent', queues);
      await adminChannel.assertQueue(queue, { durable: false });
      const run = await runJava(classpath, ['call', '', queue, '{}', '500']);
      expect(run.code).toBe(4);
    });
  });

  describe('with the pool', () => {
    let pool: RabbitMqPool;

    beforeAll(async () => {
      pool = new RabbitMqPool(
        { url: amqpUrl(), connectionName: uniqueName('it-java-interop') },
        { name: 'java-interop', logger: testLogger() },
      );
      await pool.start();
    });

    afterAll(async () => {
      await pool?.close();
    });

    it('a serveRpc handler answers the Java client: the reply, then a remote error with its code', async () => {
      const queue = freshName('java-rpc-server', queues);
      const seen: RabbitMessage[] = [];
      class OrderNotFoundError extends Error {
        readonly code = 'ORDER_NOT_FOUND';
      }
      const server = await pool.serveRpc<{ a: number; b: number }, { sum: number }>(
        { queue },
        async (payload, message) => {
          seen.push(message);
          if (payload.a < 0) throw new OrderNotFoundError(`no order ${payload.a}`);
          return { sum: payload.a + payload.b };
        },
      );
      try {
        const ok = await runJava(classpath, ['call', '', queue, '{"a":2,"b":3}']);
        expect(ok.code, ok.stderr).toBe(0);
        expect(ok.lines[0]).toMatchObject({ status: 'ok', contentType: 'application/json' });
        expect(JSON.parse(ok.lines[0]?.body as string)).toEqual({ sum: 5 });
        expect(String(seen[0]?.properties.replyTo)).toMatch(/^amq\.rabbitmq\.reply-to/);

        const failed = await runJava(classpath, ['call', '', queue, '{"a":-1,"b":0}']);
        expect(failed.code, failed.stderr).toBe(0);
        expect(failed.lines[0]).toMatchObject({ status: 'error' });
        const remote = JSON.parse(failed.lines[0]?.body as string) as Record<string, unknown>;
        expect(remote).toMatchObject({ message: 'no order -1', code: 'ORDER_NOT_FOUND' });
        expect(JSON.stringify(remote)).not.toMatch(/\bat .*\.(ts|js):\d+/);
      } finally {
        await server.cancel();
      }
    });

    it('request() resolves with the reply of the Java server', async () => {
      const queue = freshName('java-rpc-client', queues);
      const server = startJavaServer(classpath, queue, 3);
      try {
        await server.ready;
        const replies = await Promise.all(
          [1, 2, 3].map((n) =>
            pool.request<{ echo: unknown; server: string }>(
              '',
              queue,
              { n, note: 'é' },
              {
                timeoutMs: 10_000,
              },
            ),
          ),
        );
        expect(replies).toEqual([1, 2, 3].map((n) => ({ echo: { n, note: 'é' }, server: 'java' })));
      } catch (error) {
        server.stop();
        throw error;
      }
      const run = await server.done;
      expect(run.code, run.stderr).toBe(0);
      const requests = run.lines.flatMap((line) =>
        line.request === undefined ? [] : [line.request as Record<string, unknown>],
      );
      expect(requests).toHaveLength(3);
      for (const request of requests) {
        expect(request.contentType).toBe('application/json');
        expect(String(request.replyTo)).toMatch(/^amq\.rabbitmq\.reply-to/);
      }
      expect(new Set(requests.map((r) => r.correlationId)).size).toBe(3);
    });

    it('a subscribe handler receives the JSON the Java client published, with its messageId', async () => {
      const exchange = freshName('java-orders', exchanges);
      const queue = freshName('java-orders-sub', queues);
      queues.push(`${queue}.dlq`);
      await adminChannel.assertExchange(exchange, 'topic', { durable: false });
      const received: Array<{ payload: unknown; message: RabbitMessage }> = [];
      const subscription = await pool.subscribe(
        { queue, exchange, routingKey: 'orders.*' },
        async (payload, message) => {
          received.push({ payload, message });
        },
      );
      try {
        const messageId = `java-${randomUUID()}`;
        const json =
          '{"orderId":"o-42","lines":[{"sku":"A1","qty":2}],"total":19.5,"note":"caf\\u00e9"}';
        const run = await runJava(classpath, [
          'publish',
          exchange,
          'orders.created',
          json,
          messageId,
        ]);
        expect(run.code, run.stderr).toBe(0);
        expect(await eventually(() => received.length === 1, 10_000)).toBe(true);
        const [{ payload, message }] = received as [{ payload: unknown; message: RabbitMessage }];
        expect(payload).toEqual({
          orderId: 'o-42',
          lines: [{ sku: 'A1', qty: 2 }],
          total: 19.5,
          note: 'café',
        });
        expect(message.messageId).toBe(messageId);
        expect(message.properties.contentType).toBe('application/json');
        expect(message.headers['x-sent-by']).toBe('amqp-client-java');
        expect(message.fields.routingKey).toBe('orders.created');
        expect(message.attempt).toBe(1);
        expect(message.redelivered).toBe(false);
      } finally {
        await subscription.cancel();
      }
    });
  });
});

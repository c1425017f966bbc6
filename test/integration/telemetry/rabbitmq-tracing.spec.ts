import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import { amqpUrl } from '../../support/broker-env.js';
import { adminConnection, testLogger, uniqueName } from '../rabbitmq/support/rabbitmq-admin.js';
import {
  installSdk,
  type InstalledSdk,
  librarySpans,
  parentId,
  parseTraceparent,
  spanIdOf,
  traceIdOf,
  waitForSpan,
} from './support/otel-sdk.js';

describe('RabbitMQ tracing with the OpenTelemetry SDK registered (real broker)', () => {
  let sdk: InstalledSdk;
  let admin: ChannelModel;
  let pool: RabbitMqPool;
  const logger = testLogger();
  const queues: string[] = [];
  const exchanges: string[] = [];

  async function freshQueue(args: Record<string, unknown> = {}): Promise<string> {
    const q = uniqueName('otel-q');
    const ch = await admin.createChannel();
    await ch.assertQueue(q, { durable: false, autoDelete: false, arguments: args });
    await ch.close();
    queues.push(q);
    return q;
  }

  beforeAll(async () => {
    sdk = installSdk();
    admin = await adminConnection(amqpUrl());
    pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-otel') },
      { name: 'otel', logger },
    );
    await pool.start();
  });

  afterAll(async () => {
    await pool?.close();
    const ch = await admin.createChannel();
    for (const q of queues) await ch.deleteQueue(q).catch(() => undefined);
    for (const x of exchanges) await ch.deleteExchange(x).catch(() => undefined);
    await admin.close();
    await sdk.uninstall();
  });

  it('sendToQueue → consume is one trace: PRODUCER child of the caller, CONSUMER child of the PRODUCER', async () => {
    const q = await freshQueue();
    const seen: { traceparent: unknown; activeTraceId: string | undefined }[] = [];
    const handle = await pool.consume(q, (msg: ConsumeMessage) => {
      seen.push({
        traceparent: (msg.properties.headers as Record<string, unknown> | undefined)?.traceparent,
        activeTraceId: trace.getActiveSpan()?.spanContext().traceId,
      });
    });
    const root = sdk.tracer.startSpan('http request');
    await sdkWith(root, () => pool.sendToQueue(q, { order: 42 }, { correlationId: 'c-1' }));
    root.end();

    const spans = () => librarySpans(sdk.spans());
    const consumer = await waitForSpan(spans, (s) => s.name === `process ${q}`);
    const producer = spans().find((s) => s.name === `send ${q}`);
    expect(producer).toBeDefined();
    if (!producer) return;
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(consumer.kind).toBe(SpanKind.CONSUMER);
    // One trace: caller → producer → consumer.
    expect(traceIdOf(producer)).toBe(root.spanContext().traceId);
    expect(parentId(producer)).toBe(root.spanContext().spanId);
    expect(traceIdOf(consumer)).toBe(traceIdOf(producer));
    expect(parentId(consumer)).toBe(spanIdOf(producer));
    // The header carries the producer span; the handler ran inside the consumer span.
    expect(parseTraceparent(seen[0]?.traceparent)?.spanId).toBe(spanIdOf(producer));
    expect(seen[0]?.activeTraceId).toBe(traceIdOf(producer));
    // Semantic-convention attributes.
    expect(producer.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': q,
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.rabbitmq.destination.routing_key': q,
      'messaging.message.body.size': Buffer.byteLength(JSON.stringify({ order: 42 })),
      'messaging.message.conversation_id': 'c-1',
      'mq.publish.attempts': 1,
    });
    expect(String(producer.attributes['messaging.message.id'])).toMatch(/^mqp\./);
    expect(consumer.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': q,
      'messaging.operation.type': 'process',
      'messaging.message.id': producer.attributes['messaging.message.id'],
      'mq.message.redelivered': false,
      'mq.settlement': 'ack',
    });
    expect(consumer.status.code).not.toBe(SpanStatusCode.ERROR);
    await handle.cancel();
  });

  it('publish to an exchange names the span "publish <exchange>" with the routing key', async () => {
    const q = await freshQueue();
    const x = uniqueName('otel-x');
    exchanges.push(x);
    const ch = await admin.createChannel();
    await ch.assertExchange(x, 'direct', { durable: false });
    await ch.bindQueue(q, x, 'rk.1');
    await ch.close();
    const handle = await pool.consume(q, () => undefined);
    await pool.publish(x, 'rk.1', Buffer.from('bytes'));
    const spans = () => librarySpans(sdk.spans());
    const consumer = await waitForSpan(spans, (s) => s.name === `process ${q}`);
    const producer = spans().find((s) => s.name === `publish ${x}`);
    expect(producer?.kind).toBe(SpanKind.PRODUCER);
    expect(producer?.attributes).toMatchObject({
      'messaging.destination.name': x,
      'messaging.operation.name': 'publish',
      'messaging.rabbitmq.destination.routing_key': 'rk.1',
      'messaging.message.body.size': 5,
    });
    // No caller span: the producer span is a root and the consumer still joins its trace.
    expect(producer && parentId(producer)).toBeUndefined();
    expect(traceIdOf(consumer)).toBe(producer && traceIdOf(producer));

    // A traceparent the caller set itself is kept: the consumer continues that trace.
    const own = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    await pool.publish(x, 'rk.1', 'own context', { headers: { traceparent: own } });
    const continued = await waitForSpan(
      spans,
      (s) => s.name === `process ${q}` && traceIdOf(s) === '0af7651916cd43dd8448eb211c80319c',
    );
    expect(parentId(continued)).toBe('b7ad6b7169203331');
    await handle.cancel();
  });

  it('records a handler error, the requeue, the redelivery and the final reject on the consumer spans', async () => {
    const dlq = await freshQueue();
    const q = await freshQueue({ 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq });
    const handle = await pool.consume(q, () => {
      throw new Error('poison message');
    });
    await pool.sendToQueue(q, 'poison');
    const spans = () => librarySpans(sdk.spans()).filter((s) => s.name === `process ${q}`);
    await waitForSpan(spans, (s) => s.attributes['mq.settlement'] === 'reject');
    const [first, second] = spans();
    expect(first && second).toBeTruthy();
    if (!first || !second) return;
    for (const s of [first, second]) {
      expect(s.status.code).toBe(SpanStatusCode.ERROR);
      expect(s.status.message).toBe('poison message');
      expect(s.attributes['error.type']).toBe('Error');
      expect(s.events.some((e) => e.name === 'exception')).toBe(true);
    }
    expect(first.attributes).toMatchObject({
      'mq.settlement': 'requeue',
      'mq.message.redelivered': false,
    });
    expect(second.attributes).toMatchObject({
      'mq.settlement': 'reject',
      'mq.message.redelivered': true,
    });
    expect(traceIdOf(first)).toBe(traceIdOf(second));
    // The library's own log line about the failure joins the consumer span.
    const line = logger.lines.find(
      (l) => l.includes('consumer handler failed') && l.includes(spanIdOf(first)),
    );
    expect(line).toContain(`"trace_id":"${traceIdOf(first)}"`);
    await handle.cancel();

    // Dead-lettered: the delivery from the DLQ still joins the producer's trace and counts the death.
    const fromDlq = await pool.consume(dlq, () => undefined);
    const dead = await waitForSpan(
      () => librarySpans(sdk.spans()),
      (s) => s.name === `process ${dlq}`,
    );
    expect(traceIdOf(dead)).toBe(traceIdOf(first));
    expect(dead.attributes).toMatchObject({ 'mq.message.retries': 1, 'mq.settlement': 'ack' });
    await fromDlq.cancel();
  });

  it('a publish that waited for a saturated lane carries an mq.pool.wait event with the pool stats', async () => {
    const small = new RabbitMqPool(
      {
        url: amqpUrl(),
        connectionName: uniqueName('it-otel-sat'),
        connections: 1,
        channelsPerConnection: 2,
        publishChannels: 1,
        maxInFlightPerChannel: 1,
      },
      { name: 'otel-sat', logger },
    );
    try {
      await small.start();
      const q = await freshQueue();
      await small.sendToQueue(q, 'warm-up'); // the lane has its channel: the burst waits for capacity, not for a channel
      const before = sdk.spans().length;
      await Promise.all(Array.from({ length: 20 }, (_, i) => small.sendToQueue(q, `m${i}`)));
      const sent = librarySpans(sdk.spans().slice(before)).filter((s) => s.name === `send ${q}`);
      expect(sent).toHaveLength(20);
      const waited = sent.filter((s) => s.events.some((e) => e.name === 'mq.pool.wait'));
      // One in flight per channel: all but the first wait their turn.
      expect(waited.length).toBeGreaterThanOrEqual(15);
      const event = waited[waited.length - 1]?.events.find((e) => e.name === 'mq.pool.wait');
      expect(event?.attributes).toMatchObject({
        'mq.pool.name': 'rabbitmq:otel-sat',
        'mq.pool.max': 2,
        'mq.pool.wait_outcome': 'acquired',
        'mq.publisher.channels': 1,
        'mq.publisher.in_flight': 1,
      });
      expect(Number(event?.attributes?.['mq.pool.waiting'])).toBeGreaterThan(0);
      expect(Number(event?.attributes?.['mq.pool.wait_ms'])).toBeGreaterThan(0);
      const maxWait = Math.max(
        ...waited.map((s) =>
          Number(s.events.find((e) => e.name === 'mq.pool.wait')?.attributes?.['mq.pool.wait_ms']),
        ),
      );
      console.log(
        `[telemetry] saturated lane: ${waited.length}/20 publishes waited, longest ${maxWait.toFixed(2)} ms`,
      );

      // acquire() inside a span while every channel is leased: the caller's span gets the wait.
      // The lane holds one channel; this lease takes the other: the pool (max 2) is exhausted.
      const held = await small.acquire();
      const span = sdk.tracer.startSpan('handler');
      const pending = sdkWith(span, () =>
        small.withChannel(async () => 'ok', { timeoutMs: 5_000 }),
      );
      setTimeout(() => {
        held.release();
      }, 150);
      expect(await pending).toBe('ok');
      span.end();
      const ended = sdk.spans().find((s) => spanIdOf(s) === span.spanContext().spanId);
      const acquireEvent = ended?.events.find((e) => e.name === 'mq.pool.wait');
      expect(acquireEvent?.attributes).toMatchObject({
        'mq.pool.name': 'rabbitmq:otel-sat',
        'mq.pool.wait_outcome': 'acquired',
      });
      expect(Number(acquireEvent?.attributes?.['mq.pool.wait_ms'])).toBeGreaterThanOrEqual(100);
      expect(Number(acquireEvent?.attributes?.['mq.pool.in_use'])).toBe(2);
      expect(Number(acquireEvent?.attributes?.['mq.pool.size'])).toBe(2);
    } finally {
      await small.close();
    }
  });
});

/** Runs `fn` with `span` active (through the registered context manager). */
function sdkWith<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

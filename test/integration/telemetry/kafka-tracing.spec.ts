import { context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaPool } from '../../../lib/kafka/index.js';
import { kafkaBrokers } from '../../support/broker-env.js';
import {
  collectingLogger,
  createTopics,
  deleteGroups,
  uniqueName,
} from '../kafka/kafka-test-support.js';
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

function within<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

describe('Kafka tracing with the OpenTelemetry SDK registered (real broker)', () => {
  const topic = uniqueName('otel-k');
  const txTopic = uniqueName('otel-ktx');
  const batchTopic = uniqueName('otel-kb');
  const groups: string[] = [];
  let dropTopics: () => Promise<void>;
  let sdk: InstalledSdk;
  let pool: KafkaPool;

  beforeAll(async () => {
    sdk = installSdk();
    dropTopics = await createTopics([{ topic }, { topic: txTopic }, { topic: batchTopic }]);
    pool = new KafkaPool(
      {
        brokers: kafkaBrokers(),
        clientId: 'it-otel',
        transactions: { transactionalIdPrefix: uniqueName('otel-tx'), maxProducers: 1 },
      },
      { name: 'otel', logger: collectingLogger() },
    );
    await pool.start();
  });

  afterAll(async () => {
    await pool?.close();
    await deleteGroups(groups);
    await dropTopics?.();
    await sdk.uninstall();
  });

  it('send → eachMessage is one trace; a failed attempt is recorded and the retry counted', async () => {
    const group = uniqueName('otel-g');
    groups.push(group);
    let calls = 0;
    const seen: { traceparent: string | undefined; activeSpanId: string | undefined }[] = [];
    const handle = await pool.consume({
      groupId: group,
      topics: [topic],
      fromBeginning: true,
      retry: { retries: 3, initialRetryTimeMs: 50, maxRetryTimeMs: 200 },
      eachMessage: async ({ message }) => {
        seen.push({
          traceparent: message.headers?.traceparent?.toString(),
          activeSpanId: trace.getActiveSpan()?.spanContext().spanId,
        });
        if (++calls === 1) throw new Error('first attempt fails');
      },
    });
    const root = sdk.tracer.startSpan('job');
    const record = { topic, messages: [{ key: 'k1', value: 'hello' }] };
    await within(root, () => pool.send(record));
    root.end();
    expect(record.messages[0]).not.toHaveProperty('headers'); // the caller's record is not mutated

    const spans = () => librarySpans(sdk.spans());
    const ok = await waitForSpan(
      spans,
      (s) => s.name === `process ${topic}` && s.attributes['mq.settlement'] === 'processed',
      30_000,
    );
    const failed = spans().find(
      (s) => s.name === `process ${topic}` && s.attributes['mq.settlement'] === 'retry',
    );
    const producer = spans().find((s) => s.name === `send ${topic}`);
    expect(producer && failed).toBeTruthy();
    if (!producer || !failed) return;
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(parentId(producer)).toBe(root.spanContext().spanId);
    expect(producer.attributes).toMatchObject({
      'messaging.system': 'kafka',
      'messaging.destination.name': topic,
      'messaging.operation.type': 'send',
      'messaging.message.body.size': 5,
      'messaging.kafka.message.key': 'k1',
      'messaging.destination.partition.id': '0',
    });
    for (const c of [failed, ok]) {
      expect(c.kind).toBe(SpanKind.CONSUMER);
      expect(traceIdOf(c)).toBe(root.spanContext().traceId);
      expect(parentId(c)).toBe(spanIdOf(producer));
      expect(c.attributes).toMatchObject({
        'messaging.system': 'kafka',
        'messaging.consumer.group.name': group,
        'messaging.destination.partition.id': '0',
      });
    }
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.events.some((e) => e.name === 'exception')).toBe(true);
    expect(ok.status.code).not.toBe(SpanStatusCode.ERROR);
    expect(ok.attributes['mq.message.retries']).toBe(1);
    expect(parseTraceparent(seen[0]?.traceparent)?.spanId).toBe(spanIdOf(producer));
    expect(seen.map((s) => s.activeSpanId)).toEqual([spanIdOf(failed), spanIdOf(ok)]);
    await handle.stop();
  });

  it('withTransaction: INTERNAL transaction span with the pool wait, PRODUCER sends under it, consumer joins the trace', async () => {
    const group = uniqueName('otel-gtx');
    groups.push(group);
    const handle = await pool.consume({
      groupId: group,
      topics: [txTopic],
      fromBeginning: true,
      eachMessage: async () => undefined,
    });
    // maxProducers 1: the second transaction waits for the first one's producer.
    const root = sdk.tracer.startSpan('batch job');
    await within(root, async () => {
      let inside!: () => void;
      const first = new Promise<void>((r) => (inside = r));
      const one = pool.withTransaction(async (tx) => {
        await tx.send({ topic: txTopic, messages: [{ value: 'a' }] });
        inside();
        await new Promise((r) => setTimeout(r, 200));
      });
      await first; // the only producer is leased now
      const two = pool.withTransaction(async (tx) => {
        await tx.send({ topic: txTopic, messages: [{ value: 'b' }] });
      });
      await Promise.all([one, two]);
    });
    root.end();
    const spans = () => librarySpans(sdk.spans());
    await waitForSpan(
      spans,
      (s) =>
        s.name === `process ${txTopic}` && spans().filter((x) => x.name === s.name).length >= 2,
      30_000,
    );
    const txSpans = spans().filter((s) => s.name.startsWith('transaction '));
    expect(txSpans).toHaveLength(2);
    for (const t of txSpans) {
      expect(t.kind).toBe(SpanKind.INTERNAL);
      expect(parentId(t)).toBe(root.spanContext().spanId);
      expect(t.attributes['mq.kafka.transaction.outcome']).toBe('committed');
      expect(String(t.attributes['mq.kafka.transactional_id'])).toMatch(/-0$/);
    }
    const waits = txSpans.map((t) => t.events.find((e) => e.name === 'mq.pool.wait'));
    const longest = Math.max(...waits.map((e) => Number(e?.attributes?.['mq.pool.wait_ms'])));
    expect(longest).toBeGreaterThanOrEqual(150);
    const saturated = waits.find((e) => Number(e?.attributes?.['mq.pool.wait_ms']) === longest);
    expect(saturated?.attributes).toMatchObject({
      'mq.pool.max': 1,
      'mq.pool.size': 1,
      'mq.pool.in_use': 1,
      'mq.pool.wait_outcome': 'acquired',
    });
    console.log(`[telemetry] transaction waited ${longest.toFixed(1)} ms for the only producer`);

    const sends = spans().filter((s) => s.name === `send ${txTopic}`);
    expect(sends).toHaveLength(2);
    const consumers = spans().filter((s) => s.name === `process ${txTopic}`);
    for (const send of sends) {
      expect(send.kind).toBe(SpanKind.PRODUCER);
      expect(txSpans.map(spanIdOf)).toContain(parentId(send));
      expect(consumers.map(parentId)).toContain(spanIdOf(send));
    }
    await handle.stop();
  });

  it('sendBatch → eachBatch: one PRODUCER span for the batch, one CONSUMER span linked to it', async () => {
    const group = uniqueName('otel-gb');
    groups.push(group);
    const handle = await pool.consume({
      groupId: group,
      topics: [batchTopic],
      fromBeginning: true,
      eachBatch: async () => undefined,
    });
    const root = sdk.tracer.startSpan('bulk');
    await within(root, () =>
      pool.sendBatch({
        topicMessages: [
          { topic: batchTopic, messages: [{ value: '1' }, { value: '2' }, { value: '3' }] },
        ],
      }),
    );
    root.end();
    const spans = () => librarySpans(sdk.spans());
    const producer = spans().find((s) => s.name === `send ${batchTopic}`);
    expect(producer?.kind).toBe(SpanKind.PRODUCER);
    expect(producer?.attributes['messaging.batch.message_count']).toBe(3);
    const consumed = await waitForSpan(spans, (s) => s.name === `process ${batchTopic}`, 30_000);
    expect(consumed.kind).toBe(SpanKind.CONSUMER);
    // A batch has many producers: linked, not parented.
    expect(parentId(consumed)).toBeUndefined();
    const linked = new Set(consumed.links.map((l) => l.context.spanId));
    expect(producer && [...linked]).toEqual(producer && [spanIdOf(producer)]);
    expect(consumed.links[0]?.context.traceId).toBe(root.spanContext().traceId);
    expect(Number(consumed.attributes['messaging.batch.message_count'])).toBeGreaterThanOrEqual(1);
    await handle.stop();
  });
});

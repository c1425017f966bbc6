// Must stay the first import: registers instrumentation-amqplib/-kafkajs before the clients load.
import './support/register-instrumentations.js';
import { createRequire } from 'node:module';
import { context, type Span, SpanKind, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-node';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaPool } from '../../../lib/kafka/index.js';
import { RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import { amqpUrl } from '../../support/broker-env.js';
import {
  collectingLogger,
  createTopics,
  deleteGroups,
  uniqueName as kafkaName,
} from '../kafka/kafka-test-support.js';
import { adminConnection, testLogger, uniqueName } from '../rabbitmq/support/rabbitmq-admin.js';
import { kafkaBrokers } from '../../support/broker-env.js';
import {
  installSdk,
  type InstalledSdk,
  parentId,
  parseTraceparent,
  spanIdOf,
  traceIdOf,
  waitForSpan,
} from './support/otel-sdk.js';

const OURS = 'nestjs-mq-pool';
const AMQP_SCOPE = '@opentelemetry/instrumentation-amqplib';
const KAFKA_SCOPE = '@opentelemetry/instrumentation-kafkajs';

function within<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}

function traceparentKeys(headers: Record<string, unknown> | undefined): string[] {
  return Object.keys(headers ?? {}).filter((k) => /traceparent/i.test(k));
}

interface Seen {
  headers: Record<string, unknown> | undefined;
  activeSpanId?: string;
}

/**
 * One trace across the broker, in this order: request → ours (INTERNAL) → instrumentation
 * PRODUCER → instrumentation CONSUMER → ours (INTERNAL); exactly one context header, written by
 * the instrumentation's producer span; the handler ran inside our consumer span.
 */
function expectOneChain(root: Span, chain: ReadableSpan[], seen: Seen | undefined): void {
  const [p, ip, ic, ourConsumer] = chain as [
    ReadableSpan,
    ReadableSpan,
    ReadableSpan,
    ReadableSpan,
  ];
  expect(parentId(p)).toBe(root.spanContext().spanId);
  expect(parentId(ip)).toBe(spanIdOf(p));
  expect(parentId(ic)).toBe(spanIdOf(ip));
  expect(parentId(ourConsumer)).toBe(spanIdOf(ic));
  for (const s of chain) expect(traceIdOf(s)).toBe(root.spanContext().traceId);
  expect(traceparentKeys(seen?.headers)).toEqual(['traceparent']);
  expect(parseTraceparent(seen?.headers?.traceparent)?.spanId).toBe(spanIdOf(ip));
  expect(seen?.activeSpanId).toBe(spanIdOf(ourConsumer));
}

describe('with instrumentation-amqplib and instrumentation-kafkajs registered (real brokers)', () => {
  let sdk: InstalledSdk;
  const spansOf = (scope: string, name: string): ReadableSpan[] =>
    sdk.spans().filter((s) => s.instrumentationScope.name === scope && s.name === name);

  beforeAll(() => {
    sdk = installSdk();
  });

  afterAll(async () => {
    await sdk.uninstall();
  });

  it('the clients really are patched in this file', () => {
    const require = createRequire(import.meta.url);
    const kafkajs = require('kafkajs') as {
      Kafka: { prototype: { producer: { __wrapped?: boolean } } };
    };
    expect(kafkajs.Kafka.prototype.producer.__wrapped).toBe(true);
  });

  describe('RabbitMQ', () => {
    let admin: ChannelModel;
    let pool: RabbitMqPool;
    const queues: string[] = [];

    beforeAll(async () => {
      admin = await adminConnection(amqpUrl());
      pool = new RabbitMqPool(
        { url: amqpUrl(), connectionName: uniqueName('it-otel-instr') },
        { name: 'instr', logger: testLogger() },
      );
      await pool.start();
    });

    afterAll(async () => {
      await pool?.close();
      const ch = await admin.createChannel();
      for (const q of queues) await ch.deleteQueue(q).catch(() => undefined);
      await admin.close();
    });

    it('one PRODUCER and one CONSUMER span per message, one traceparent header, one trace', async () => {
      const q = uniqueName('otel-iq');
      queues.push(q);
      const ch = await admin.createChannel();
      await ch.assertQueue(q, { durable: false });
      await ch.close();
      const seen: Seen[] = [];
      const handle = await pool.consume(q, (msg: ConsumeMessage) => {
        seen.push({
          headers: msg.properties.headers as Record<string, unknown> | undefined,
          activeSpanId: trace.getActiveSpan()?.spanContext().spanId,
        });
      });
      const root = sdk.tracer.startSpan('request');
      await within(root, () => pool.sendToQueue(q, 'hello'));
      root.end();

      const ourConsumer = await waitForSpan(
        () => spansOf(OURS, `process ${q}`),
        () => true,
      );
      const ourProducer = spansOf(OURS, `send ${q}`);
      const instrProducer = sdk
        .spans()
        .filter((s) => s.instrumentationScope.name === AMQP_SCOPE && s.kind === SpanKind.PRODUCER);
      const instrConsumer = spansOf(AMQP_SCOPE, `${q} process`);
      // No double counting: the instrumentation owns PRODUCER/CONSUMER, ours are INTERNAL.
      expect(ourProducer).toHaveLength(1);
      expect(instrProducer).toHaveLength(1);
      expect(instrConsumer).toHaveLength(1);
      const [p, ip, ic] = [ourProducer[0]!, instrProducer[0]!, instrConsumer[0]!];
      expect(p.kind).toBe(SpanKind.INTERNAL);
      expect(ourConsumer.kind).toBe(SpanKind.INTERNAL);
      const messagingSpans = sdk
        .spans()
        .filter(
          (s) =>
            (s.kind === SpanKind.PRODUCER || s.kind === SpanKind.CONSUMER) &&
            traceIdOf(s) === root.spanContext().traceId,
        );
      expect(messagingSpans.map((s) => s.kind).sort()).toEqual([
        SpanKind.PRODUCER,
        SpanKind.CONSUMER,
      ]);
      expectOneChain(root, [p, ip, ic, ourConsumer], seen[0]);
      await handle.cancel();
    });
  });

  describe('Kafka', () => {
    const topic = kafkaName('otel-ik');
    const group = kafkaName('otel-ig');
    let dropTopics: () => Promise<void>;
    let pool: KafkaPool;

    beforeAll(async () => {
      dropTopics = await createTopics([{ topic }]);
      pool = new KafkaPool(
        { brokers: kafkaBrokers(), clientId: 'it-otel-instr' },
        { name: 'instr', logger: collectingLogger() },
      );
      await pool.start();
    });

    afterAll(async () => {
      await pool?.close();
      await deleteGroups([group]);
      await dropTopics?.();
    });

    it('one PRODUCER and one CONSUMER span per record, one traceparent header, one trace', async () => {
      const seen: Seen[] = [];
      const handle = await pool.consume({
        groupId: group,
        topics: [topic],
        fromBeginning: true,
        eachMessage: async ({ message }) => {
          seen.push({
            headers: message.headers as Record<string, unknown> | undefined,
            activeSpanId: trace.getActiveSpan()?.spanContext().spanId,
          });
        },
      });
      const root = sdk.tracer.startSpan('job');
      await within(root, () => pool.send({ topic, messages: [{ value: 'v' }] }));
      root.end();

      const ourConsumer = await waitForSpan(
        () => spansOf(OURS, `process ${topic}`),
        () => true,
        30_000,
      );
      const ourProducer = spansOf(OURS, `send ${topic}`);
      const instrProducer = spansOf(KAFKA_SCOPE, `send ${topic}`);
      const instrConsumer = spansOf(KAFKA_SCOPE, `process ${topic}`);
      expect(ourProducer).toHaveLength(1);
      expect(instrProducer).toHaveLength(1);
      expect(instrConsumer).toHaveLength(1);
      const [p, ip, ic] = [ourProducer[0]!, instrProducer[0]!, instrConsumer[0]!];
      expect(p.kind).toBe(SpanKind.INTERNAL);
      expect(ip.kind).toBe(SpanKind.PRODUCER);
      expect(ic.kind).toBe(SpanKind.CONSUMER);
      expect(ourConsumer.kind).toBe(SpanKind.INTERNAL);
      expectOneChain(root, [p, ip, ic, ourConsumer], seen[0]);
      await handle.stop();
    });
  });
});

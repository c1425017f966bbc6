import { trace } from '@opentelemetry/api';
import type { ChannelModel, ConsumeMessage } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaPool } from '../../../lib/kafka/index.js';
import { RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import { activeTracer } from '../../../lib/telemetry/index.js';
import { amqpUrl, kafkaBrokers } from '../../support/broker-env.js';
import {
  collectingLogger,
  createTopics,
  deleteGroups,
  uniqueName as kafkaName,
  waitFor,
} from '../kafka/kafka-test-support.js';
import {
  adminConnection,
  eventually,
  testLogger,
  uniqueName,
} from '../rabbitmq/support/rabbitmq-admin.js';
import { installSdk } from './support/otel-sdk.js';

/** With the api installed but no SDK registered the library is a no-op: no span, no header, no context. */
describe('tracing is off when no SDK is registered (real brokers)', () => {
  let admin: ChannelModel;
  let rabbit: RabbitMqPool;
  let kafka: KafkaPool;
  const queue = uniqueName('otel-none');
  const topic = kafkaName('otel-none');
  const group = kafkaName('otel-none-g');
  let dropTopics: () => Promise<void>;

  beforeAll(async () => {
    admin = await adminConnection(amqpUrl());
    const ch = await admin.createChannel();
    await ch.assertQueue(queue, { durable: false });
    await ch.close();
    rabbit = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-otel-none') },
      { name: 'none', logger: testLogger() },
    );
    await rabbit.start();
    dropTopics = await createTopics([{ topic }]);
    kafka = new KafkaPool(
      { brokers: kafkaBrokers(), clientId: 'it-otel-none' },
      { name: 'none', logger: collectingLogger() },
    );
    await kafka.start();
  });

  afterAll(async () => {
    await rabbit?.close();
    await kafka?.close();
    const ch = await admin.createChannel();
    await ch.deleteQueue(queue).catch(() => undefined);
    await admin.close();
    await deleteGroups([group]);
    await dropTopics?.();
  });

  it('RabbitMQ: no traceparent header and no active span in the handler; it follows an SDK registered later and removed again', async () => {
    expect(activeTracer()).toBeUndefined();
    const seen: { headers: Record<string, unknown>; active: boolean }[] = [];
    const handle = await rabbit.consume(queue, (msg: ConsumeMessage) => {
      seen.push({
        headers: (msg.properties.headers ?? {}) as Record<string, unknown>,
        active: trace.getActiveSpan() !== undefined,
      });
    });
    await rabbit.sendToQueue(queue, 'plain', { headers: { app: 'x' } });
    expect(await eventually(() => seen.length === 1, 5_000)).toBe(true);
    expect(seen[0]).toEqual({ headers: { app: 'x' }, active: false });

    // Registered at runtime: the next publish is traced…
    const sdk = installSdk();
    expect(activeTracer()).toBeDefined();
    await rabbit.sendToQueue(queue, 'traced');
    expect(await eventually(() => seen.length === 2, 5_000)).toBe(true);
    expect(seen[1]?.headers.traceparent).toBeDefined();
    expect(seen[1]?.active).toBe(true);
    expect(sdk.spans().length).toBeGreaterThanOrEqual(2);
    // …and after the app disables it, nothing is added any more.
    await sdk.uninstall();
    expect(activeTracer()).toBeUndefined();
    await rabbit.sendToQueue(queue, 'plain again');
    expect(await eventually(() => seen.length === 3, 5_000)).toBe(true);
    expect(seen[2]).toEqual({ headers: {}, active: false });
    await handle.cancel();
  });

  it('Kafka: records are sent without headers and handled outside any span', async () => {
    const seen: { headers: unknown; active: boolean }[] = [];
    const handle = await kafka.consume({
      groupId: group,
      topics: [topic],
      fromBeginning: true,
      eachMessage: async ({ message }) => {
        seen.push({ headers: message.headers, active: trace.getActiveSpan() !== undefined });
      },
    });
    await kafka.send({ topic, messages: [{ value: 'plain' }] });
    await waitFor(() => seen.length === 1, 30_000, 'the record');
    expect(seen[0]).toEqual({ headers: {}, active: false });
    await handle.stop();
  });
});

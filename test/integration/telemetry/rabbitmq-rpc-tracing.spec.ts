import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import { amqpUrl } from '../../support/broker-env.js';
import { adminConnection, testLogger, uniqueName } from '../rabbitmq/support/rabbitmq-admin.js';
import {
  installSdk,
  type InstalledSdk,
  librarySpans,
  parentId,
  spanIdOf,
  traceIdOf,
  waitForSpan,
} from './support/otel-sdk.js';

describe('RabbitMQ RPC tracing with the OpenTelemetry SDK registered (real broker)', () => {
  let sdk: InstalledSdk;
  let admin: ChannelModel;
  let pool: RabbitMqPool;
  const queues: string[] = [];

  beforeAll(async () => {
    sdk = installSdk();
    admin = await adminConnection(amqpUrl());
    pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-otel-rpc') },
      { name: 'otel-rpc', logger: testLogger() },
    );
    await pool.start();
  });

  afterAll(async () => {
    await pool?.close();
    const ch = await admin.createChannel();
    for (const q of queues) await ch.deleteQueue(q).catch(() => undefined);
    await admin.close();
    await sdk.uninstall();
  });

  it('request → serve → reply is one trace: the request span, the server delivery span under it, the reply publish under that', async () => {
    const queue = uniqueName('otel-rpc-q');
    queues.push(queue);
    const handlerTraceIds: Array<string | undefined> = [];
    await pool.serveRpc({ queue, queueOptions: { durable: false } }, async (n: number) => {
      handlerTraceIds.push(trace.getActiveSpan()?.spanContext().traceId);
      if (n < 0) throw Object.assign(new Error('negative'), { code: 'NEGATIVE' });
      return n * 2;
    });
    const root = sdk.tracer.startSpan('http request');
    const reply = await context.with(trace.setSpan(context.active(), root), () =>
      pool.request('', queue, 21),
    );
    root.end();
    expect(reply).toBe(42);

    const spans = () => librarySpans(sdk.spans());
    const client = await waitForSpan(spans, (s) => s.name === `request ${queue}`);
    const server = await waitForSpan(spans, (s) => s.name === `process ${queue}`);
    expect(client.kind).toBe(SpanKind.PRODUCER);
    expect(traceIdOf(client)).toBe(root.spanContext().traceId);
    expect(parentId(client)).toBe(root.spanContext().spanId);
    expect(parentId(server)).toBe(spanIdOf(client));
    expect(handlerTraceIds).toEqual([traceIdOf(client)]);
    const replyPublish = await waitForSpan(
      spans,
      (s) => s.name.startsWith('send amq.rabbitmq.reply-to') && parentId(s) === spanIdOf(server),
    );
    expect(traceIdOf(replyPublish)).toBe(traceIdOf(client));
    expect(client.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.operation.name': 'request',
      'messaging.rabbitmq.destination.routing_key': queue,
    });
    expect(client.status.code).not.toBe(SpanStatusCode.ERROR);

    // An error reply marks the request span failed.
    await expect(pool.request('', queue, -1)).rejects.toMatchObject({ remoteCode: 'NEGATIVE' });
    const failed = await waitForSpan(
      spans,
      (s) => s.name === `request ${queue}` && s.status.code === SpanStatusCode.ERROR,
    );
    expect(failed.attributes['error.type']).toBe('remote');
  });
});

import { EventEmitter } from 'node:events';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import type { ConfirmChannel, Options } from 'amqplib';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SYSTEM_CLOCK } from '../../../lib/core/clock.js';
import { AcquireTimeoutError } from '../../../lib/core/errors/acquire-timeout.error.js';
import { WaitBound } from '../../../lib/core/wait-bound.js';
import type { Lease } from '../../../lib/core/lease.js';
import { NOOP_LOGGER } from '../../../lib/core/logger.js';
import type { ConnectionSlot } from '../../../lib/rabbitmq/connection-slot.js';
import { PublishRejectedError } from '../../../lib/rabbitmq/errors/publish-rejected.error.js';
import { PooledChannel } from '../../../lib/rabbitmq/pooled-channel.js';
import { PublisherLane } from '../../../lib/rabbitmq/publisher-lane.js';
import { NOOP_RABBITMQ_METRICS } from '../../../lib/rabbitmq/rabbitmq-metrics.js';

type Confirm = (err: Error | null) => void;
interface Written {
  options: Options.Publish;
  confirm: Confirm;
}

/** A confirm channel that records writes; the test answers each confirm. */
class FakeChannel extends EventEmitter {
  readonly written: Written[] = [];
  publish(
    _exchange: string,
    _routingKey: string,
    _content: Buffer,
    options: Options.Publish,
    confirm: Confirm,
  ): boolean {
    this.written.push({ options, confirm });
    return true;
  }
}

function pooled(ch: FakeChannel): PooledChannel {
  const slot = { blocked: false, isUp: true, generation: 1 } as unknown as ConnectionSlot;
  return new PooledChannel(ch as unknown as ConfirmChannel, slot, 1);
}

function lane(
  acquire: () => Promise<Lease<PooledChannel>>,
  acquireTimeoutMs = 1_000,
): PublisherLane {
  const waitBound = new WaitBound(100);
  waitBound.join({ length: 3 }); // callers waiting in the channel pool
  return new PublisherLane({
    name: 'rabbitmq:unit',
    publishChannels: 1,
    maxInFlightPerChannel: 10,
    waitBound,
    acquireTimeoutMs,
    confirmTimeoutMs: 5_000,
    rotateAfterMs: 0,
    acquire,
    poolStats: () => ({
      max: 4,
      size: 4,
      idle: 0,
      leased: 4,
      creating: 0,
      validating: 0,
      waiting: 3,
      leaks: 0,
      draining: false,
      closed: false,
    }),
    lastFailure: () => undefined,
    clock: SYSTEM_CLOCK,
    logger: NOOP_LOGGER,
    metrics: NOOP_RABBITMQ_METRICS,
  });
}

function leaseOf(pc: PooledChannel): Lease<PooledChannel> {
  return {
    resource: pc,
    release: () => undefined,
    destroy: () => Promise.resolve(),
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
}

/** A lane whose acquires hand out fresh fake channels (each on its own connection). */
function laneWithChannels(wrapPublish = false): { lane: PublisherLane; channels: FakeChannel[] } {
  const channels: FakeChannel[] = [];
  const l = lane(() => {
    const ch = new FakeChannel();
    if (wrapPublish) {
      const original = ch.publish.bind(ch);
      ch.publish = Object.assign(
        (...args: Parameters<FakeChannel['publish']>) => original(...args),
        {
          __wrapped: true,
        },
      );
    }
    channels.push(ch);
    return Promise.resolve(leaseOf(pooled(ch)));
  });
  return { lane: l, channels };
}

describe('publish spans in the publisher lane (fake channels, real SDK)', () => {
  let provider: NodeTracerProvider | undefined;
  let exporter: InMemorySpanExporter;

  function register(): void {
    exporter = new InMemorySpanExporter();
    provider = new NodeTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    provider.register();
  }

  afterEach(async () => {
    await provider?.shutdown();
    provider = undefined;
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('no SDK: nothing is added to the message options', async () => {
    const { lane: l, channels } = laneWithChannels();
    const done = l.publish('', 'q', Buffer.from('x'));
    await vi.waitFor(() => expect(channels[0]?.written).toHaveLength(1));
    expect(channels[0]?.written[0]?.options).toEqual({
      messageId: expect.any(String) as unknown,
      persistent: true,
    });
    channels[0]?.written[0]?.confirm(null);
    await done;
  });

  it('a queued publish records its wait with the pool stats; the header carries the span', async () => {
    register();
    const { lane: l, channels } = laneWithChannels();
    const done = l.publish('ex', 'rk', Buffer.from('x'), { headers: { app: 'a' } });
    await vi.waitFor(() => expect(channels[0]?.written).toHaveLength(1));
    channels[0]?.written[0]?.confirm(null);
    await done;
    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('publish ex');
    expect(span?.kind).toBe(SpanKind.PRODUCER);
    const headers = channels[0]?.written[0]?.options.headers as Record<string, unknown>;
    expect(headers.app).toBe('a');
    expect(String(headers.traceparent)).toContain(span?.spanContext().spanId);
    const wait = span?.events.find((e) => e.name === 'mq.pool.wait');
    expect(wait?.attributes).toMatchObject({
      'mq.pool.name': 'rabbitmq:unit',
      'mq.pool.in_use': 4,
      'mq.pool.waiting': 4, // 3 in the pool + this publish
      'mq.pool.wait_outcome': 'acquired',
      'mq.publisher.channels': 0,
    });
  });

  it('a publish retried after its channel died: one span, a retry event, attempts 2, the same traceparent', async () => {
    register();
    const { lane: l, channels } = laneWithChannels();
    const done = l.publish('', 'q', Buffer.from('x'));
    await vi.waitFor(() => expect(channels[0]?.written).toHaveLength(1));
    const first = channels[0]?.written[0];
    first?.confirm(new Error('channel closed')); // the connection went under the publish
    await vi.waitFor(() => expect(channels[1]?.written).toHaveLength(1));
    const second = channels[1]?.written[0];
    second?.confirm(null);
    await done;
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]?.attributes['mq.publish.attempts']).toBe(2);
    expect(spans[0]?.events.map((e) => e.name)).toContain('mq.publish.retry');
    expect(second?.options.headers?.traceparent).toBe(first?.options.headers?.traceparent);
  });

  it('no channel in time: a PRODUCER span with the AcquireTimeoutError and a timed-out wait', async () => {
    register();
    const l = lane(() => new Promise(() => undefined), 50);
    await expect(l.publish('', 'q', Buffer.from('x'))).rejects.toBeInstanceOf(AcquireTimeoutError);
    const [span] = exporter.getFinishedSpans();
    expect(span?.kind).toBe(SpanKind.PRODUCER);
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes).toMatchObject({
      'error.type': 'no_channel',
      'mq.publish.attempts': 0,
    });
    const wait = span?.events.find((e) => e.name === 'mq.pool.wait');
    expect(wait?.attributes?.['mq.pool.wait_outcome']).toBe('timeout');
    expect(Number(wait?.attributes?.['mq.pool.wait_ms'])).toBeGreaterThanOrEqual(40);
    l.close();
  });

  it('a broker nack ends the span with PublishRejectedError', async () => {
    register();
    const { lane: l, channels } = laneWithChannels();
    const done = l.publish('', 'q', Buffer.from('x'));
    await vi.waitFor(() => expect(channels[0]?.written).toHaveLength(1));
    channels[0]?.written[0]?.confirm(new Error('message nacked'));
    await expect(done).rejects.toBeInstanceOf(PublishRejectedError);
    const [span] = exporter.getFinishedSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe('nack');
    expect(span?.events.some((e) => e.name === 'exception')).toBe(true);
  });

  it('under an instrumented channel the span is INTERNAL and injects nothing (the instrumentation does)', async () => {
    register();
    const { lane: l, channels } = laneWithChannels(true);
    const done = l.publish('', 'q', Buffer.from('x'));
    await vi.waitFor(() => expect(channels[0]?.written).toHaveLength(1));
    channels[0]?.written[0]?.confirm(null);
    await done;
    const [span] = exporter.getFinishedSpans();
    expect(span?.kind).toBe(SpanKind.INTERNAL);
    expect(channels[0]?.written[0]?.options.headers).toBeUndefined();
  });
});

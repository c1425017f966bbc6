import { describe, expect, it } from 'vitest';
import { NonRetriableError } from '../../../lib/core/errors/non-retriable.error.js';
import { JSON_SERIALIZER } from '../../../lib/core/json-serializer.js';
import { NOOP_LOGGER } from '../../../lib/core/logger.js';
import type { MessageSerializer } from '../../../lib/core/message-serializer.js';
import { DeadLetterFailedError } from '../../../lib/kafka/errors/dead-letter-failed.error.js';
import { RetryInterruptedError } from '../../../lib/kafka/errors/retry-interrupted.error.js';
import {
  NOOP_KAFKA_METRICS,
  type KafkaEachMessagePayload,
  type KafkaHandler,
  type KafkaHandlerOutcome,
  type KafkaMessageContext,
  type KafkaProducerRecord,
} from '../../../lib/kafka/index.js';
import { KafkaSubscriber } from '../../../lib/kafka/kafka-subscriber.js';
import { validateKafkaSubscribeOptions } from '../../../lib/kafka/kafka-subscribe-options.validator.js';
import { FakeClock } from '../core/support/fake-clock.js';

function rig(
  options: Record<string, unknown>,
  handler: KafkaHandler<unknown>,
  serializer: MessageSerializer = JSON_SERIALIZER,
) {
  const clock = new FakeClock();
  const stop = new AbortController();
  const sent: KafkaProducerRecord[] = [];
  const outcomes: KafkaHandlerOutcome[] = [];
  const durations: number[] = [];
  let sendImpl = async (record: KafkaProducerRecord): Promise<void> => {
    sent.push(record);
  };
  const subscriber = new KafkaSubscriber(
    validateKafkaSubscribeOptions({ topics: 'orders', groupId: 'g', ...options }, handler),
    handler,
    {
      poolName: 'unit',
      serializer,
      send: (record) => sendImpl(record),
      clock,
      logger: NOOP_LOGGER,
      metrics: {
        ...NOOP_KAFKA_METRICS,
        handlerOutcome: (_topic, outcome) => outcomes.push(outcome),
        handlerRan: (_topic, seconds) => durations.push(seconds),
      },
      scrub: (text) => text,
      heartbeatEveryMs: 1_000,
      stopSignal: stop.signal,
    },
  );
  const heartbeats: number[] = [];
  const deliver = (
    value: string | null,
    headers: KafkaEachMessagePayload['message']['headers'] = {},
  ) =>
    subscriber.handle({
      topic: 'orders',
      partition: 0,
      message: {
        key: Buffer.from('k'),
        value: value === null ? null : Buffer.from(value),
        timestamp: '0',
        attributes: 0,
        offset: '7',
        headers,
      },
      heartbeat: async () => {
        heartbeats.push(clock.now());
      },
      pause: () => () => undefined,
    });
  return {
    clock,
    stop,
    sent,
    outcomes,
    durations,
    heartbeats,
    deliver,
    failSends: (error: Error | undefined) => {
      sendImpl = async (record) => {
        if (error) throw error;
        sent.push(record);
      };
    },
  };
}

describe('KafkaSubscriber', () => {
  it('decodes the value by content type and passes the record context', async () => {
    const calls: [unknown, KafkaMessageContext][] = [];
    const r = rig({}, async (payload, context) => {
      calls.push([payload, context]);
    });
    await r.deliver('{"id":1}', { 'content-type': Buffer.from('application/json') });
    await r.deliver('hi', { 'content-type': ['text/plain'] });
    await r.deliver(null);
    expect(calls.map(([p]) => p)).toEqual([{ id: 1 }, 'hi', null]);
    expect(calls[0]![1]).toMatchObject({ topic: 'orders', partition: 0, offset: '7', attempt: 1 });
    expect(calls[0]![1].key?.toString()).toBe('k');
    expect(r.outcomes).toEqual(['handled', 'handled', 'handled']);
    expect(r.sent).toEqual([]);
  });

  it('retries after each delay of the list (the last repeating), then dead-letters', async () => {
    const attempts: [number, number][] = [];
    const r = rig({ retry: { attempts: 4, delayMs: [100, 2_500] } }, async (_p, context) => {
      attempts.push([context.attempt, r.clock.now()]);
      throw new Error('down');
    });
    const done = r.deliver('1');
    await r.clock.tick(100 + 2_500 + 2_500);
    await done;
    expect(attempts).toEqual([
      [1, 0],
      [2, 100],
      [3, 2_600],
      [4, 5_100],
    ]);
    expect(r.heartbeats).toEqual([1_100, 2_100, 3_600, 4_600]);
    expect(r.outcomes).toEqual([
      'failed',
      'retried',
      'failed',
      'retried',
      'failed',
      'retried',
      'failed',
      'dead_lettered',
    ]);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]!.topic).toBe('orders.dlq');
    expect(r.sent[0]!.messages[0]!.headers).toMatchObject({ 'x-mq-attempts': '4' });
  });

  it('gives a fresh payload to every attempt', async () => {
    const seen: unknown[] = [];
    const r = rig({ retry: { attempts: 2, delayMs: 10 } }, async (payload) => {
      seen.push(structuredClone(payload));
      (payload as { touched?: boolean }).touched = true;
      throw new Error('again');
    });
    const done = r.deliver('{"a":1}');
    await r.clock.tick(10);
    await done;
    expect(seen).toEqual([{ a: 1 }, { a: 1 }]);
  });

  it('dead-letters a NonRetriableError and an undecodable payload without retrying', async () => {
    let calls = 0;
    const r = rig({ retry: { attempts: 5, delayMs: 1_000 } }, async () => {
      calls++;
      throw new NonRetriableError('invalid order');
    });
    await r.deliver('1');
    await r.deliver('{oops', { 'content-type': 'application/json' });
    expect(calls).toBe(1);
    expect(r.sent.map((s) => s.messages[0]!.headers!['x-mq-error-code'])).toEqual([
      'MQ_MESSAGE_NON_RETRIABLE',
      'MQ_PAYLOAD_UNDECODABLE',
    ]);
    expect(r.outcomes).toEqual(['failed', 'dead_lettered', 'dead_lettered']);
  });

  it("keeps a custom serializer's own NonRetriableError as the reason", async () => {
    class BadSchema extends NonRetriableError {
      override readonly code = 'APP_BAD_SCHEMA';
    }
    const serializer: MessageSerializer = {
      serialize: JSON_SERIALIZER.serialize,
      deserialize: () => {
        throw new BadSchema('missing field id');
      },
    };
    const r = rig({}, async () => undefined, serializer);
    await r.deliver('{}');
    expect(r.sent[0]!.messages[0]!.headers).toMatchObject({
      'x-mq-error-code': 'APP_BAD_SCHEMA',
      'x-mq-error': 'BadSchema: missing field id',
    });
  });

  it('drops the record with deadLetterTopic: false', async () => {
    const r = rig({ deadLetterTopic: false }, async () => {
      throw new Error('no');
    });
    await r.deliver('1');
    expect(r.sent).toEqual([]);
    expect(r.outcomes).toEqual(['failed', 'discarded']);
  });

  it('throws when the dead-letter send fails, and sends the redelivered record straight to the dead-letter topic', async () => {
    let calls = 0;
    const r = rig({ retry: { attempts: 2, delayMs: 10 } }, async () => {
      calls++;
      throw new Error('down');
    });
    r.failSends(new Error('broker gone'));
    const first = expect(r.deliver('1')).rejects.toBeInstanceOf(DeadLetterFailedError);
    await r.clock.tick(10);
    await first;
    expect(calls).toBe(2);
    r.failSends(undefined);
    await r.deliver('1');
    expect(calls).toBe(2);
    expect(r.sent).toHaveLength(1);
    expect(r.sent[0]!.messages[0]!.headers).toMatchObject({ 'x-mq-attempts': '2' });
    expect(r.outcomes.filter((o) => o === 'dead_lettered')).toHaveLength(1);
  });

  it('a stop during a retry wait rejects at once with RetryInterruptedError and dead-letters nothing', async () => {
    let calls = 0;
    const r = rig({ retry: { attempts: 3, delayMs: 60_000 } }, async () => {
      calls++;
      throw new Error('down');
    });
    const done = r.deliver('1');
    await r.clock.tick(5_000);
    r.stop.abort();
    await expect(done).rejects.toBeInstanceOf(RetryInterruptedError);
    await expect(done).rejects.toMatchObject({
      source: { topic: 'orders', partition: 0, offset: '7' },
      nextAttempt: 2,
    });
    expect(calls).toBe(1);
    expect(r.sent).toEqual([]);
    expect(r.outcomes).toEqual(['failed']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NonRetriableError } from '../../../lib/core/errors/non-retriable.error.js';
import {
  KafkaPool,
  NOOP_KAFKA_METRICS,
  type KafkaHandlerOutcome,
  type KafkaMessageContext,
  type KafkaMetricsRecorder,
} from '../../../lib/kafka/index.js';
import { kafkaBrokers } from '../../support/broker-env.js';
import {
  collectingLogger,
  createTopics,
  groupTracker,
  readRecords,
  sleep,
  uniqueName,
  waitFor,
} from './kafka-test-support.js';

/** Counts `handlerOutcome` calls as `topic:outcome`. */
function countingMetrics(): KafkaMetricsRecorder & { counts: Map<string, number> } {
  const counts = new Map<string, number>();
  return {
    ...NOOP_KAFKA_METRICS,
    counts,
    handlerOutcome(topic: string, outcome: KafkaHandlerOutcome) {
      const key = `${topic}:${outcome}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    },
  };
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

describe('KafkaPool.subscribe against a real broker: retries and dead letters', () => {
  const handled = uniqueName('it-sub-ok');
  const retried = uniqueName('it-sub-retry');
  const poison = uniqueName('it-sub-poison');
  const dropped = uniqueName('it-sub-drop');
  const groups = groupTracker();
  const metrics = countingMetrics();
  let dropTopics: () => Promise<void>;
  let pool: KafkaPool;

  beforeAll(async () => {
    dropTopics = await createTopics(
      [handled, retried, poison, dropped].flatMap((t) => [{ topic: t }, { topic: `${t}.dlq` }]),
    );
    pool = new KafkaPool(
      {
        brokers: kafkaBrokers(),
        clientId: 'it-sub',
        consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 500 },
      },
      { name: 'it-sub', logger: collectingLogger(), metrics },
    );
    await pool.start();
  });

  afterAll(async () => {
    await groups.end(pool);
    await dropTopics?.();
  });

  it('hands each record to the handler decoded, with its context, and moves on', async () => {
    const seen: { payload: unknown; context: KafkaMessageContext }[] = [];
    groups.keep(
      await pool.subscribe<{ n: number }>(
        { topics: handled, groupId: groups.id('it-sub-ok'), fromBeginning: true },
        async (payload, context) => {
          seen.push({ payload, context });
        },
      ),
    );
    await pool.send({
      topic: handled,
      messages: [
        { key: 'k1', value: json({ n: 1 }), headers: { 'content-type': 'application/json' } },
        { key: 'k2', value: json({ n: 2 }) }, // no content type: JSON when it parses
        { key: 'k3', value: 'plain', headers: { 'content-type': 'text/plain' } },
      ],
    });
    await waitFor(() => seen.length === 3, 30_000, 'three records');
    expect(seen.map((s) => s.payload)).toEqual([{ n: 1 }, { n: 2 }, 'plain']);
    expect(seen[0]!.context).toMatchObject({
      topic: handled,
      partition: 0,
      offset: '0',
      attempt: 1,
    });
    expect(seen[0]!.context.key?.toString()).toBe('k1');
    expect(seen[0]!.context.headers['content-type']?.toString()).toBe('application/json');
    expect(seen[0]!.context.raw.value?.toString()).toBe('{"n":1}');
    expect(metrics.counts.get(`${handled}:handled`)).toBe(3);
  });

  it('retries a failing handler at the policy delays, then dead-letters the record with the x-mq-* headers, and the group moves past it', async () => {
    const groupId = groups.id('it-sub-retry');
    const calls: { at: number; attempt: number; value: unknown }[] = [];
    const handler = async (payload: unknown, context: KafkaMessageContext): Promise<void> => {
      calls.push({ at: performance.now(), attempt: context.attempt, value: payload });
      if (payload === 'bad') throw new Error('boom: the downstream said no');
    };
    const options = {
      topics: [retried],
      groupId,
      fromBeginning: true,
      retry: { attempts: 3, delayMs: [300, 900] },
    };
    const first = groups.keep(await pool.subscribe(options, handler));
    await pool.send({
      topic: retried,
      messages: [
        {
          key: 'order-7',
          value: json('bad'),
          headers: { 'content-type': 'application/json', 'x-app': 'kept' },
        },
        { key: 'order-8', value: json('good') },
      ],
    });
    await waitFor(() => calls.some((c) => c.value === 'good'), 30_000, 'the record behind');
    const bad = calls.filter((c) => c.value === 'bad');
    expect(bad.map((c) => c.attempt)).toEqual([1, 2, 3]);
    const gaps = [bad[1]!.at - bad[0]!.at, bad[2]!.at - bad[1]!.at];
    expect(gaps[0]).toBeGreaterThanOrEqual(295);
    expect(gaps[0]).toBeLessThan(300 + 500);
    expect(gaps[1]).toBeGreaterThanOrEqual(895);
    expect(gaps[1]).toBeLessThan(900 + 500);
    // Order kept: the record behind ran only after the bad one was dead-lettered.
    expect(calls.at(-1)!.value).toBe('good');

    const [dead] = await readRecords(`${retried}.dlq`, { until: (r) => r.length >= 1 });
    expect(dead).toMatchObject({ key: 'order-7', value: '"bad"' });
    expect(dead!.headers).toMatchObject({
      'content-type': 'application/json',
      'x-app': 'kept',
      'x-mq-error': 'Error: boom: the downstream said no',
      'x-mq-error-code': 'Error',
      'x-mq-attempts': '3',
      'x-mq-source-topic': retried,
      'x-mq-source-partition': '0',
      'x-mq-source-offset': '0',
    });
    const failedAt = Date.parse(dead!.headers['x-mq-failed-at']!);
    expect(Math.abs(Date.now() - failedAt)).toBeLessThan(60_000);
    expect(metrics.counts.get(`${retried}:failed`)).toBe(3);
    expect(metrics.counts.get(`${retried}:retried`)).toBe(2);
    expect(metrics.counts.get(`${retried}:dead_lettered`)).toBe(1);

    // Committed past both: a new member of the group sees only what comes after.
    await first.stop();
    calls.length = 0;
    groups.keep(await pool.subscribe(options, handler));
    await pool.send({ topic: retried, messages: [{ value: json('later') }] });
    await waitFor(() => calls.length >= 1, 30_000, 'the new record');
    await sleep(1_000);
    expect(calls.map((c) => c.value)).toEqual(['later']);
  });

  it('dead-letters a NonRetriableError and an undecodable payload at once, without retrying', async () => {
    const calls: unknown[] = [];
    groups.keep(
      await pool.subscribe(
        {
          topics: poison,
          groupId: groups.id('it-sub-poison'),
          fromBeginning: true,
          retry: { attempts: 5, delayMs: 5_000 },
        },
        async (payload) => {
          calls.push(payload);
          throw new NonRetriableError('order 9 is for a closed account');
        },
      ),
    );
    const start = performance.now();
    await pool.send({
      topic: poison,
      messages: [
        { key: 'a', value: json('refused') },
        { key: 'b', value: '{"not json', headers: { 'content-type': 'application/json' } },
      ],
    });
    const dead = await readRecords(`${poison}.dlq`, { until: (r) => r.length >= 2 });
    expect(performance.now() - start).toBeLessThan(5_000 + 5_000); // no 5 s retry wait happened
    expect(calls).toEqual(['refused']);
    expect(
      dead.map((d) => [d.key, d.headers['x-mq-error-code'], d.headers['x-mq-attempts']]),
    ).toEqual([
      ['a', 'MQ_MESSAGE_NON_RETRIABLE', '1'],
      ['b', 'MQ_PAYLOAD_UNDECODABLE', '1'],
    ]);
    expect(dead[0]!.headers['x-mq-error']).toBe(
      'NonRetriableError: order 9 is for a closed account',
    );
    expect(dead[1]!.value).toBe('{"not json');
    expect(dead[1]!.headers['x-mq-error']).toMatch(
      /^PayloadDeserializationError: The message body is not valid application\/json/,
    );
    expect(metrics.counts.get(`${poison}:retried`)).toBeUndefined();
  });

  it('deadLetterTopic: false drops the failed record, counts it, and moves on', async () => {
    const calls: unknown[] = [];
    groups.keep(
      await pool.subscribe(
        {
          topics: dropped,
          groupId: groups.id('it-sub-drop'),
          fromBeginning: true,
          retry: { attempts: 2, delayMs: 50 },
          deadLetterTopic: false,
        },
        async (payload) => {
          calls.push(payload);
          if (payload === 'bad') throw new Error('no');
        },
      ),
    );
    await pool.send({
      topic: dropped,
      messages: [{ value: json('bad') }, { value: json('good') }],
    });
    await waitFor(() => calls.includes('good'), 30_000, 'the record behind');
    expect(calls).toEqual(['bad', 'bad', 'good']);
    expect(metrics.counts.get(`${dropped}:discarded`)).toBe(1);
    expect(await readRecords(`${dropped}.dlq`, { timeoutMs: 3_000 })).toEqual([]);
  });
});

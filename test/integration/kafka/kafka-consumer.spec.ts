import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsumerFailedError, KafkaPool, type KafkaPoolEvents } from '../../../lib/kafka/index.js';
import { kafkaBrokers } from '../../support/broker-env.js';
import {
  collectingLogger,
  createTopics,
  deleteGroups,
  sleep,
  uniqueName,
  waitFor,
} from './kafka-test-support.js';

describe('KafkaPool against a real broker: managed consumers', () => {
  const topic = uniqueName('it-cons');
  const poison = uniqueName('it-poison');
  const groups: string[] = [];
  let dropTopics: () => Promise<void>;
  let pool: KafkaPool;

  beforeAll(async () => {
    dropTopics = await createTopics([{ topic, numPartitions: 2 }, { topic: poison }]);
    pool = new KafkaPool(
      {
        brokers: kafkaBrokers(),
        clientId: 'it-cons',
        consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 },
      },
      { name: 'it-cons', logger: collectingLogger() },
    );
    await pool.start();
  });

  afterAll(async () => {
    await pool?.close();
    await deleteGroups(groups);
    await dropTopics?.();
  });

  it('graceful stop commits: a restarted group never processes a committed message again', async () => {
    const group = uniqueName('it-g');
    groups.push(group);
    const first: string[] = [];
    const handle = await pool.consume({
      groupId: group,
      topics: [topic],
      fromBeginning: true,
      eachMessage: async ({ message }) => {
        await sleep(5); // a handler that takes a moment: stop must wait for it
        first.push(message.value!.toString());
      },
    });
    await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        pool.send({ topic, messages: [{ key: String(i), value: `a${i}` }] }),
      ),
    );
    await waitFor(() => first.length === 30, 30_000, 'the first 30 messages');
    const report = await handle.stop(10_000);
    expect(report).toMatchObject({ timedOut: false, inFlightAtDeadline: 0 });

    await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        pool.send({ topic, messages: [{ key: String(i), value: `b${i}` }] }),
      ),
    );
    const second: string[] = [];
    const restarted = await pool.consume({
      groupId: group,
      topics: [topic],
      fromBeginning: true, // ignored: the group has committed offsets
      eachMessage: async ({ message }) => {
        second.push(message.value!.toString());
      },
    });
    await waitFor(() => second.length >= 10, 30_000, 'the 10 new messages');
    await sleep(1_500); // would a re-delivery of an old one show up?
    await restarted.stop();
    expect(second.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `b${i}`).sort());
    expect(first.filter((v) => v.startsWith('a'))).toHaveLength(30);
  });

  it('a poison message crash-loops the consumer into "failed" with an event and readiness down, never an endless loop', async () => {
    const group = uniqueName('it-g-poison');
    groups.push(group);
    const events: KafkaPoolEvents['consumerCrash'][] = [];
    const failed: KafkaPoolEvents['consumerFailed'][] = [];
    const onCrash = (e: KafkaPoolEvents['consumerCrash']) => events.push(e);
    const onFailed = (e: KafkaPoolEvents['consumerFailed']) => failed.push(e);
    pool.on('consumerCrash', onCrash).on('consumerFailed', onFailed);
    await pool.send({ topic: poison, messages: [{ value: 'poison' }] });
    let attempts = 0;
    const handle = await pool.consume({
      groupId: group,
      topics: [poison],
      fromBeginning: true,
      retry: { retries: 0, initialRetryTimeMs: 50, maxRetryTimeMs: 100 },
      restart: { initialDelayMs: 50, maxDelayMs: 200, maxRestarts: 2, windowMs: 60_000 },
      eachMessage: async () => {
        attempts++;
        throw new Error('cannot handle this one');
      },
    });
    await waitFor(() => handle.state === 'failed', 60_000, 'the consumer to give up');
    pool.off('consumerCrash', onCrash).off('consumerFailed', onFailed);
    expect(events).toHaveLength(2);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.error).toBeInstanceOf(ConsumerFailedError);
    expect(handle.stats()).toMatchObject({ crashes: 3, restarts: 2, state: 'failed' });
    expect(pool.health()).toMatchObject({
      healthy: false,
      reason: `consumer crash loop: ${group}`,
    });
    const attemptsAtFailure = attempts;
    await sleep(1_000);
    expect(attempts).toBe(attemptsAtFailure);
    await handle.stop();
    expect(pool.health().healthy).toBe(true);
  });
});

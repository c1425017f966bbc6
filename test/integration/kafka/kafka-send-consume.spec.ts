import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaPool } from '../../../lib/kafka/index.js';
import { kafkaBrokers } from '../../support/broker-env.js';
import {
  collectingLogger,
  createTopics,
  deleteGroups,
  readAll,
  uniqueName,
  waitFor,
} from './kafka-test-support.js';

describe('KafkaPool against a real broker: send and consume', () => {
  const topic = uniqueName('it-send');
  const multi = uniqueName('it-multi');
  const groups: string[] = [];
  let dropTopics: () => Promise<void>;
  let pool: KafkaPool;

  beforeAll(async () => {
    dropTopics = await createTopics([{ topic }, { topic: multi, numPartitions: 6 }]);
    pool = new KafkaPool(
      { brokers: kafkaBrokers(), clientId: 'it-send' },
      { name: 'it', logger: collectingLogger() },
    );
    await pool.start();
  });

  afterAll(async () => {
    await pool?.close();
    await deleteGroups(groups);
    await dropTopics?.();
  });

  it('round-trips send() → consume() with acks -1 and reports readiness', async () => {
    const group = uniqueName('it-g');
    groups.push(group);
    const received: { key: string | undefined; value: string; header: string | undefined }[] = [];
    const handle = await pool.consume({
      groupId: group,
      topics: [topic],
      fromBeginning: true,
      eachMessage: async ({ message }) => {
        received.push({
          key: message.key?.toString(),
          value: message.value?.toString() ?? '',
          header: message.headers?.trace?.toString(),
        });
      },
    });
    const metadata = await pool.send({
      topic,
      acks: -1,
      messages: [{ key: 'k1', value: 'hello', headers: { trace: 't-1' } }],
    });
    expect(metadata).toHaveLength(1);
    expect(metadata[0]).toMatchObject({ topicName: topic, errorCode: 0 });
    await waitFor(() => received.length === 1, 20_000, 'the message');
    expect(received[0]).toEqual({ key: 'k1', value: 'hello', header: 't-1' });
    expect(handle.stats()).toMatchObject({ state: 'running', processed: 1, failed: 0 });
    expect(pool.health()).toMatchObject({ healthy: true });
    await pool.ping(2_000);
    const report = await handle.stop();
    expect(report.timedOut).toBe(false);
    expect(handle.state).toBe('stopped');
  });

  it('spreads keyed records over the partitions of a 6-partition topic and keeps each key on one partition', async () => {
    const keys = Array.from({ length: 24 }, (_, i) => `key-${i}`);
    const results = await Promise.all(
      keys.flatMap((key) =>
        [0, 1, 2].map((seq) =>
          pool.send({ topic: multi, messages: [{ key, value: `${key}:${seq}` }] }),
        ),
      ),
    );
    const partitions = new Set(results.flat().map((m) => m.partition));
    expect(partitions.size).toBeGreaterThan(1);
    // Same key → same partition (murmur2 partitioner).
    const byKey = new Map<string, Set<number>>();
    results.forEach((r, i) => {
      const key = keys[Math.floor(i / 3)] as string;
      byKey.set(key, (byKey.get(key) ?? new Set()).add(r[0]!.partition));
    });
    for (const set of byKey.values()) expect(set.size).toBe(1);

    const values = await readAll(multi, { until: (v) => v.length >= 72 });
    expect(values).toHaveLength(72);
    for (const key of keys) {
      const seqs = values
        .filter((v) => v.startsWith(`${key}:`))
        .map((v) => Number(v.split(':')[1]));
      expect(seqs).toHaveLength(3);
    }
  });

  it('consumes a multi-partition topic with partitions in parallel', async () => {
    const group = uniqueName('it-g');
    groups.push(group);
    const seen = new Set<string>();
    const handle = await pool.consume({
      groupId: group,
      topics: [multi],
      fromBeginning: true,
      partitionsConsumedConcurrently: 3,
      eachMessage: async ({ message, partition }) => {
        seen.add(`${partition}/${message.offset}`);
      },
    });
    await waitFor(() => seen.size >= 72, 30_000, '72 messages');
    await handle.stop();
    expect(seen.size).toBe(72);
  });
});

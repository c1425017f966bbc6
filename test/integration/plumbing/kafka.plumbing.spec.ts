import { randomUUID } from 'node:crypto';
import {
  Kafka,
  logLevel,
  type Admin,
  type Consumer,
  type EachMessagePayload,
  type Producer,
} from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaBrokers } from '../../support/broker-env.js';

/**
 * Proves that kafkajs 2.2.4 works against the Kafka 4.x broker of scripts/brokers.sh: Kafka 4.0
 * removed old protocol versions (KIP-896), so each feature the library relies on is exercised once
 * against the real broker: produce/consume, consumer-group commits, admin, transactions.
 */
const suffix = randomUUID().slice(0, 8);
const kafka = new Kafka({
  clientId: `plumbing-${suffix}`,
  brokers: kafkaBrokers(),
  logLevel: logLevel.NOTHING,
  retry: { retries: 8, initialRetryTime: 100 },
});

function collect(
  consumer: Consumer,
  count: number,
  timeoutMs = 30_000,
): Promise<EachMessagePayload[]> {
  const seen: EachMessagePayload[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`received ${seen.length} of ${count} messages in ${timeoutMs} ms`)),
      timeoutMs,
    );
    timer.unref();
    consumer
      .run({
        eachMessage: async (payload) => {
          seen.push(payload);
          if (seen.length >= count) {
            clearTimeout(timer);
            resolve(seen);
          }
        },
      })
      .catch(reject);
  });
}

describe('Kafka plumbing (raw kafkajs against the real broker)', () => {
  let admin: Admin;
  const topics: string[] = [];
  const clients: Array<Producer | Consumer> = [];

  async function newTopic(name: string, partitions = 1): Promise<string> {
    const topic = `plumbing.${name}.${suffix}`;
    topics.push(topic);
    await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    return topic;
  }

  function track<T extends Producer | Consumer>(client: T): T {
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    admin = kafka.admin();
    await admin.connect();
  });

  afterAll(async () => {
    await Promise.all(clients.map((client) => client.disconnect().catch(() => undefined)));
    if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
  });

  it('admin: describes the cluster, creates a topic, reads its metadata and deletes it', async () => {
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.length).toBeGreaterThanOrEqual(1);
    expect(cluster.controller).not.toBeNull();

    const topic = await newTopic('admin', 3);
    expect(await admin.listTopics()).toContain(topic);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(metadata.topics[0]?.name).toBe(topic);
    expect(metadata.topics[0]?.partitions).toHaveLength(3);

    await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
    topics.splice(topics.indexOf(topic), 1);
    await expect.poll(async () => admin.listTopics(), { timeout: 10_000 }).not.toContain(topic);
  });

  it('produces and consumes messages, and commits the consumer group offsets', async () => {
    const topic = await newTopic('produce', 2);
    const groupId = `plumbing-group-${suffix}`;
    const producer = track(kafka.producer({ allowAutoTopicCreation: false }));
    await producer.connect();
    const sent = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `v${i}` }));
    const records = await producer.send({ topic, acks: -1, messages: sent });
    expect(records.every((record) => record.errorCode === 0)).toBe(true);

    const consumer = track(
      kafka.consumer({ groupId, sessionTimeout: 10_000, maxWaitTimeInMs: 500 }),
    );
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await collect(consumer, sent.length);
    expect(received.map((p) => p.message.value?.toString()).sort()).toEqual(
      sent.map((m) => m.value).sort(),
    );
    // kafkajs auto-commits resolved offsets on stop; the group's offsets must then cover all.
    await consumer.stop();
    const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets[0]?.partitions.reduce((sum, p) => sum + Number(p.offset), 0);
    expect(committed).toBe(sent.length);
    await consumer.disconnect();
  });

  it('transactions: a read_committed consumer sees committed messages and never aborted ones', async () => {
    const topic = await newTopic('txn');
    const producer = track(
      kafka.producer({
        transactionalId: `plumbing-txn-${suffix}`,
        idempotent: true,
        maxInFlightRequests: 1,
      }),
    );
    await producer.connect();

    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ value: 'aborted-1' }, { value: 'aborted-2' }] });
    await aborted.abort();

    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ value: 'committed-1' }, { value: 'committed-2' }] });
    await committed.commit();

    const consumer = track(
      kafka.consumer({
        groupId: `plumbing-txn-group-${suffix}`,
        readUncommitted: false,
        maxWaitTimeInMs: 500,
      }),
    );
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await collect(consumer, 2);
    // Give a late aborted record a moment to show up, should the broker wrongly deliver it.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(received.map((p) => p.message.value?.toString())).toEqual([
      'committed-1',
      'committed-2',
    ]);

    // A read_uncommitted consumer sees the aborted records too: the abort really happened on the log.
    const dirty = track(
      kafka.consumer({
        groupId: `plumbing-txn-dirty-${suffix}`,
        readUncommitted: true,
        maxWaitTimeInMs: 500,
      }),
    );
    await dirty.connect();
    await dirty.subscribe({ topic, fromBeginning: true });
    const all = await collect(dirty, 4);
    expect(all.map((p) => p.message.value?.toString())).toEqual([
      'aborted-1',
      'aborted-2',
      'committed-1',
      'committed-2',
    ]);
  });
});

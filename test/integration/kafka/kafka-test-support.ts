import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import type { MqLogger } from '../../../lib/core/logger.js';
import type { KafkaConsumerHandle, KafkaPool } from '../../../lib/kafka/index.js';
import { kafkaBrokers } from '../../support/broker-env.js';

/** Raw kafkajs client for test set-up (topics, independent verification consumers). */
export function rawKafka(brokers: string[] = kafkaBrokers()): InstanceType<typeof kafkajs.Kafka> {
  return new kafkajs.Kafka({ brokers, clientId: 'kafka-it', logLevel: kafkajs.logLevel.NOTHING });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** Creates topics (waiting for leaders) and returns a function deleting them. */
export async function createTopics(
  topics: { topic: string; numPartitions?: number }[],
  brokers: string[] = kafkaBrokers(),
): Promise<() => Promise<void>> {
  const admin = rawKafka(brokers).admin();
  await admin.connect();
  await admin.createTopics({
    topics: topics.map((t) => ({ numPartitions: 1, ...t })),
    waitForLeaders: true,
  });
  return async () => {
    try {
      await admin.deleteTopics({ topics: topics.map((t) => t.topic), timeout: 10_000 });
    } finally {
      await admin.disconnect();
    }
  };
}

/** The consumer groups and handles a spec file starts, ended together in its `afterAll`. */
export function groupTracker(): {
  id(prefix: string): string;
  keep(handle: KafkaConsumerHandle): KafkaConsumerHandle;
  /** Stops the kept handles, closes `pool`, then deletes the groups. */
  end(pool: KafkaPool | undefined): Promise<void>;
} {
  const ids: string[] = [];
  const handles: KafkaConsumerHandle[] = [];
  return {
    id(prefix) {
      const id = uniqueName(prefix);
      ids.push(id);
      return id;
    },
    keep(handle) {
      handles.push(handle);
      return handle;
    },
    async end(pool) {
      await Promise.all(handles.map((h) => h.stop()));
      await pool?.close();
      await deleteGroups(ids);
    },
  };
}

/** Deletes consumer groups left by a test. */
export async function deleteGroups(
  groupIds: string[],
  brokers: string[] = kafkaBrokers(),
): Promise<void> {
  const admin = rawKafka(brokers).admin();
  await admin.connect();
  try {
    await admin.deleteGroups(groupIds).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}

/** A record as a test reads it back: key, value and headers as text. */
export interface ReadRecord {
  key: string | null;
  value: string;
  headers: Record<string, string>;
  partition: number;
  offset: string;
}

/**
 * Reads a topic from the beginning with an independent raw consumer until `until` holds or
 * `idleMs` passes with nothing new, and returns the values.
 */
export async function readAll(topic: string, opts: ReadOptions<string> = {}): Promise<string[]> {
  const records = await readRecords(topic, {
    ...opts,
    until: opts.until ? (rs) => opts.until!(rs.map((r) => r.value)) : undefined,
  });
  return records.map((r) => r.value);
}

export interface ReadOptions<T> {
  readUncommitted?: boolean;
  until?: (read: T[]) => boolean;
  timeoutMs?: number;
  idleMs?: number;
}

/** `readAll`, with each record's key, headers and position. */
export async function readRecords(
  topic: string,
  opts: ReadOptions<ReadRecord> = {},
): Promise<ReadRecord[]> {
  const consumer = rawKafka().consumer({
    groupId: uniqueName('reader'),
    readUncommitted: opts.readUncommitted ?? false,
  });
  const records: ReadRecord[] = [];
  let lastAt = Date.now();
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(message.headers ?? {}))
        if (value !== undefined) headers[name] = value.toString();
      records.push({
        key: message.key?.toString() ?? null,
        value: message.value?.toString() ?? '',
        headers,
        partition,
        offset: message.offset,
      });
      lastAt = Date.now();
    },
  });
  const start = Date.now();
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const idleMs = opts.idleMs ?? 3_000;
  while (Date.now() - start < timeoutMs) {
    if (opts.until?.(records) && Date.now() - lastAt > 300) break;
    if (!opts.until && records.length > 0 && Date.now() - lastAt > idleMs) break;
    await sleep(100);
  }
  await consumer.disconnect();
  return records;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function waitFor(
  condition: () => boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs)
      throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(50);
  }
}

/** Logger collecting lines (for secret checks), optionally echoing warnings when debugging. */
export function collectingLogger(): MqLogger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push(
      `${level} ${message} ${JSON.stringify(fields ?? {}, (_k, v: unknown) => (v instanceof Error ? v.message : v))}`,
    );
    if (process.env.KAFKA_IT_LOG) console.log(level, message, fields);
  };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

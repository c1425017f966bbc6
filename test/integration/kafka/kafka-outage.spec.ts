import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrokerUnreachableError,
  KafkaPool,
  SendFailedError,
  SendTimeoutError,
} from '../../../lib/kafka/index.js';
import { createDisposableKafka, type DisposableKafka } from '../../support/disposable-kafka.js';
import {
  collectingLogger,
  createTopics,
  sleep,
  uniqueName,
  waitFor,
} from './kafka-test-support.js';

type Outcome = { phase: 'before' | 'down' | 'after'; ok: boolean; error?: unknown; ms: number };

describe('KafkaPool when its broker is killed and restarted while sending (disposable broker)', () => {
  let broker: DisposableKafka;
  let pool: KafkaPool;
  const topic = uniqueName('it-outage');
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    broker = await createDisposableKafka({ label: 'outage' });
    await broker.start();
    await createTopics([{ topic, numPartitions: 2 }], broker.brokers);
    pool = new KafkaPool(
      {
        brokers: broker.brokers,
        clientId: 'it-outage',
        sendTimeoutMs: 4_000,
        connectTimeoutMs: 1_000,
        retry: { retries: 3, initialRetryTimeMs: 100, maxRetryTimeMs: 500 },
        reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
        consumer: {
          sessionTimeoutMs: 6_000,
          heartbeatIntervalMs: 1_000,
          retry: { retries: 2, initialRetryTimeMs: 100, maxRetryTimeMs: 500 },
          // A tight crash-loop limit: outage crashes must not count toward it.
          restart: { initialDelayMs: 200, maxDelayMs: 2_000, maxRestarts: 2, windowMs: 120_000 },
        },
      },
      { name: 'outage', logger: collectingLogger() },
    );
    await pool.start();
  }, 180_000);

  afterAll(async () => {
    await pool?.close();
    await broker?.dispose();
    process.off('unhandledRejection', onUnhandled);
  });

  it('sends fail with typed errors while the broker is down, succeed after it returns; no crash, no unhandled rejection', async () => {
    const received = new Set<string>();
    const handle = await pool.consume({
      groupId: uniqueName('it-outage-g'),
      topics: [topic],
      fromBeginning: true,
      eachMessage: async ({ message }) => {
        received.add(message.value!.toString());
      },
    });

    let phase: Outcome['phase'] = 'before';
    const outcomes: Outcome[] = [];
    let stop = false;
    let seq = 0;
    // Four senders, continuously, across the whole outage.
    const senders = Array.from({ length: 4 }, async () => {
      while (!stop) {
        const at = phase;
        const start = Date.now();
        const value = `m${seq++}`;
        try {
          await pool.send({ topic, messages: [{ key: value, value }] });
          outcomes.push({ phase: at, ok: true, ms: Date.now() - start });
        } catch (error) {
          outcomes.push({ phase: at, ok: false, error, ms: Date.now() - start });
        }
        await sleep(25);
      }
    });

    await sleep(1_000);
    expect(outcomes.filter((o) => o.phase === 'before').every((o) => o.ok)).toBe(true);

    await broker.kill9();
    phase = 'down';
    await sleep(9_000);
    const downErrors = outcomes.filter((o) => o.phase === 'down' && !o.ok);
    expect(downErrors.length).toBeGreaterThan(3);
    for (const o of downErrors) {
      expect(o.error instanceof SendFailedError || o.error instanceof SendTimeoutError).toBe(true);
      expect(o.ms).toBeLessThan(4_000 + 1_000); // every failure within the send deadline (+ timer slack)
    }
    const health = pool.health();
    expect(health.healthy).toBe(false);
    expect(health.reason).toMatch(/last send failed \((connection|timeout)\)/);
    await expect(pool.ping(1_000)).rejects.toBeInstanceOf(BrokerUnreachableError);

    await broker.start();
    phase = 'after';
    const restartedAt = outcomes.length;
    await waitFor(
      () => outcomes.slice(restartedAt).some((o) => o.phase === 'after' && o.ok),
      60_000,
      'a send to succeed after the restart',
    );
    await sleep(2_000);
    stop = true;
    await Promise.all(senders);

    const after = outcomes.filter((o) => o.phase === 'after');
    const firstOk = after.findIndex((o) => o.ok);
    // Once a send got through again, the rest succeed too.
    expect(after.slice(firstOk + 4).every((o) => o.ok)).toBe(true);
    expect(pool.health().healthy).toBe(true);
    await pool.ping(5_000);

    // Every acknowledged record reaches the consumer, which survived the outage (restart policy).
    const acked = outcomes.filter((o) => o.ok).length;
    await waitFor(
      () => received.size >= acked,
      60_000,
      `the consumer to see all ${acked} acknowledged records`,
    );
    expect(['running', 'restarting', 'starting']).toContain(handle.state);
    expect(unhandled).toEqual([]);
    console.log(
      `[outage] sends: before ${outcomes.filter((o) => o.phase === 'before').length} ok; down ${downErrors.length} failed ` +
        `(${[...new Set(downErrors.map((o) => (o.error as { code?: string }).code))].join(', ')}); after ${after.filter((o) => o.ok).length} ok / ${after.length}; ` +
        `consumer crashes ${handle.stats().crashes}, restarts ${handle.stats().restarts}`,
    );
    await handle.stop();
  }, 180_000);
});

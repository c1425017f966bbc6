import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PoolClosedError } from '../../../lib/core/errors/pool-closed.error.js';
import { KafkaPool } from '../../../lib/kafka/index.js';
import { kafkaBrokers } from '../../support/broker-env.js';
import {
  collectingLogger,
  createTopics,
  deleteGroups,
  readAll,
  sleep,
  uniqueName,
  waitFor,
} from './kafka-test-support.js';

describe('KafkaPool against a real broker: drain under load', () => {
  const input = uniqueName('it-drain-in');
  const output = uniqueName('it-drain-out');
  const group = uniqueName('it-drain-g');
  let dropTopics: () => Promise<void>;

  beforeAll(async () => {
    dropTopics = await createTopics([
      { topic: input, numPartitions: 4 },
      { topic: output, numPartitions: 4 },
    ]);
  });

  afterAll(async () => {
    await deleteGroups([group]);
    await dropTopics?.();
  });

  it('finishes within its deadline while senders, transactions and a consume-produce handler are busy', async () => {
    const pool = new KafkaPool(
      {
        brokers: kafkaBrokers(),
        clientId: 'it-drain',
        transactions: { transactionalIdPrefix: uniqueName('it-drain-tx'), maxProducers: 2 },
        consumer: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000 },
      },
      { name: 'drain', logger: collectingLogger() },
    );
    await pool.start();
    let handled = 0;
    await pool.consume({
      groupId: group,
      topics: [input],
      fromBeginning: true,
      partitionsConsumedConcurrently: 4,
      eachMessage: async ({ message }) => {
        await sleep(10);
        // Consume-produce: the handler still sends while the pool drains.
        await pool.send({
          topic: output,
          messages: [{ value: `out-${message.value!.toString()}` }],
        });
        handled++;
      },
    });

    let stop = false;
    let sent = 0;
    let refused = 0;
    const other: unknown[] = [];
    const load = Array.from({ length: 32 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          if (i % 10 === 0) {
            await pool.withTransaction(async (tx) => {
              await tx.send({ topic: output, messages: [{ value: `tx-${w}-${i}` }] });
            });
          } else {
            await pool.send({ topic: input, messages: [{ key: `${w}`, value: `${w}-${i}` }] });
          }
          sent++;
        } catch (error) {
          if (error instanceof PoolClosedError) {
            refused++;
            return;
          }
          other.push(error);
          return;
        }
      }
    });
    await waitFor(() => handled >= 50, 30_000, 'the handler to be busy');

    const deadlineMs = 8_000;
    const started = Date.now();
    const report = await pool.drain(deadlineMs);
    const took = Date.now() - started;
    stop = true;
    await Promise.all(load);

    expect(took).toBeLessThanOrEqual(deadlineMs + 500);
    expect(report.timedOut).toBe(false);
    expect(report.consumers).toEqual([
      expect.objectContaining({ groupId: group, timedOut: false, inFlightAtDeadline: 0 }),
    ]);
    expect(report.sendsInFlightAtDeadline).toBe(0);
    expect(report.transactions).toMatchObject({ timedOut: false, leasedAtDeadline: 0 });
    expect(other).toEqual([]);
    expect(refused).toBeGreaterThan(0);
    expect(pool.health()).toMatchObject({ healthy: false, reason: 'drained' });
    expect(pool.stats()).toMatchObject({
      closed: true,
      producer: { state: 'closed', inFlight: 0 },
    });
    await pool.close();
    console.log(
      `[drain] ${sent} sends/transactions accepted, ${handled} handled, drain took ${took}ms (deadline ${deadlineMs})`,
    );

    // Every handled message's output was written before the drain finished.
    const outputs = await readAll(output, {
      until: (v) => v.filter((x) => x.startsWith('out-')).length >= handled,
    });
    expect(outputs.filter((x) => x.startsWith('out-')).length).toBeGreaterThanOrEqual(handled);
  });
});

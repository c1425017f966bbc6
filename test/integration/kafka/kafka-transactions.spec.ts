import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaPool, ProducerFencedError, type KafkaTransaction } from '../../../lib/kafka/index.js';
import { kafkaBrokers } from '../../support/broker-env.js';
import {
  collectingLogger,
  createTopics,
  readAll,
  sleep,
  uniqueName,
} from './kafka-test-support.js';

describe('KafkaPool against a real broker: transactions', () => {
  const topic = uniqueName('it-tx');
  const concurrent = uniqueName('it-tx-conc');
  const fencing = uniqueName('it-tx-fence');
  let dropTopics: () => Promise<void>;
  const pools: KafkaPool[] = [];

  function txPool(prefix: string, maxProducers = 4): KafkaPool {
    const pool = new KafkaPool(
      {
        brokers: kafkaBrokers(),
        clientId: 'it-tx',
        transactions: { transactionalIdPrefix: prefix, maxProducers },
      },
      { name: prefix, logger: collectingLogger() },
    );
    pools.push(pool);
    return pool;
  }

  beforeAll(async () => {
    dropTopics = await createTopics([
      { topic, numPartitions: 3 },
      { topic: concurrent, numPartitions: 3 },
      { topic: fencing },
    ]);
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
    await dropTopics?.();
  });

  it('committed records are visible to a read_committed consumer, aborted ones never', async () => {
    const pool = txPool(uniqueName('it-txid'));
    await pool.withTransaction(async (tx) => {
      await tx.send({
        topic,
        messages: [
          { key: 'a', value: 'committed-1' },
          { key: 'b', value: 'committed-2' },
        ],
      });
    });
    await expect(
      pool.withTransaction(async (tx) => {
        await tx.send({
          topic,
          messages: [
            { key: 'a', value: 'aborted-1' },
            { key: 'c', value: 'aborted-2' },
          ],
        });
        throw new Error('rollback');
      }),
    ).rejects.toThrow('rollback');
    await pool.withTransaction(async (tx) => {
      await tx.send({ topic, messages: [{ value: 'committed-3' }] });
    });

    const committed = await readAll(topic, { until: (v) => v.length >= 3, idleMs: 2_000 });
    expect(committed.sort()).toEqual(['committed-1', 'committed-2', 'committed-3']);
    // read_uncommitted sees the aborted records too: they were really written, then aborted.
    const everything = await readAll(topic, { readUncommitted: true, until: (v) => v.length >= 5 });
    expect(everything.filter((v) => v.startsWith('aborted'))).toHaveLength(2);
  });

  it('20 concurrent withTransaction calls on a pool of 4 never share a producer and all complete', async () => {
    const pool = txPool(uniqueName('it-txid'), 4);
    const active = new Set<string>();
    const ids = new Set<string>();
    let overlap = false;
    let maxActive = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        pool.withTransaction(async (tx: KafkaTransaction) => {
          if (active.has(tx.transactionalId)) overlap = true;
          active.add(tx.transactionalId);
          ids.add(tx.transactionalId);
          maxActive = Math.max(maxActive, active.size);
          await tx.send({ topic: concurrent, messages: [{ key: String(i), value: `v${i}` }] });
          await sleep(20);
          await tx.send({ topic: concurrent, messages: [{ key: String(i), value: `w${i}` }] });
          active.delete(tx.transactionalId);
          return i;
        }),
      ),
    );
    expect(overlap).toBe(false);
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(maxActive).toBeLessThanOrEqual(4);
    expect(ids.size).toBeLessThanOrEqual(4);
    expect(pool.stats()).toMatchObject({ max: 4, leased: 0, waiting: 0 });
    const values = await readAll(concurrent, { until: (v) => v.length >= 40 });
    expect(values).toHaveLength(40);
  });

  it('a restarted instance (same prefix) fences its predecessor: the old open transaction never commits', async () => {
    const prefix = uniqueName('it-fence');
    const old = txPool(prefix, 1);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const oldTx = old
      .withTransaction(async (tx) => {
        await tx.send({ topic: fencing, messages: [{ value: 'from-old-instance' }] });
        entered();
        await gate;
      })
      .catch((e: unknown) => e);
    await inside;

    const restarted = txPool(prefix, 1);
    await restarted.withTransaction(async (tx) => {
      expect(tx.transactionalId).toBe(`${prefix}-0`);
      await tx.send({ topic: fencing, messages: [{ value: 'from-new-instance' }] });
    });
    release();
    const error = await oldTx;
    expect(error).toBeInstanceOf(ProducerFencedError);
    expect((error as ProducerFencedError).transactionalId).toBe(`${prefix}-0`);

    const values = await readAll(fencing, {
      until: (v) => v.includes('from-new-instance'),
      idleMs: 2_000,
    });
    expect(values).toEqual(['from-new-instance']);
  });
});

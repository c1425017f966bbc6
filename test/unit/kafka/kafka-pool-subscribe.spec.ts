import { afterEach, describe, expect, it } from 'vitest';
import { InvalidPoolOptionsError } from '../../../lib/core/errors/invalid-pool-options.error.js';
import { KafkaPool, RetryInterruptedError } from '../../../lib/kafka/index.js';
import { FakeKafka } from './fake-kafka-driver.js';

const pools: KafkaPool[] = [];

function makePool(fake = new FakeKafka()) {
  const pool = new KafkaPool(
    { brokers: ['b:9092'], sendTimeoutMs: 200, startTimeoutMs: 200 },
    { name: 'unit', driver: fake.factory },
  );
  pools.push(pool);
  return { pool, fake };
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('KafkaPool.subscribe() on the managed consumer', () => {
  it('runs the handler as a managed consumer of the group', async () => {
    const { pool, fake } = makePool();
    await pool.start();
    const seen: unknown[] = [];
    const handle = await pool.subscribe(
      { topics: 't', groupId: 'g', partitionsConsumedConcurrently: 3 },
      async (payload) => {
        seen.push(payload);
      },
    );
    expect(handle).toMatchObject({ groupId: 'g', state: 'running' });
    const consumer = fake.consumers[0]!;
    expect(consumer.config.groupId).toBe('g');
    expect(consumer.run_).toMatchObject({ partitionsConsumedConcurrently: 3, autoCommit: true });
    await consumer.deliver('{"n":1}');
    expect(seen).toEqual([{ n: 1 }]);
    expect(handle.stats()).toMatchObject({ processed: 1, failed: 0 });
  });

  it('rejects invalid options before starting anything', async () => {
    const { pool, fake } = makePool();
    await expect(
      pool.subscribe(
        { topics: 't', groupId: 'g', retry: { attempts: 0, delayMs: 1 } },
        async () => undefined,
      ),
    ).rejects.toMatchObject({ key: 'subscribe(g).retry.attempts' });
    await expect(
      pool.subscribe({ topics: [], groupId: 'g' }, async () => undefined),
    ).rejects.toBeInstanceOf(InvalidPoolOptionsError);
    expect(fake.consumers).toHaveLength(0);
  });

  it('a drain ends a retry wait at once: the record is left uncommitted, nothing dead-lettered', async () => {
    const { pool, fake } = makePool();
    await pool.start();
    await pool.subscribe(
      { topics: 't', groupId: 'g', retry: { attempts: 3, delayMs: 60_000 } },
      async () => {
        throw new Error('down');
      },
    );
    const delivered = fake.consumers[0]!.deliver('1');
    const outcome = expect(delivered).rejects.toBeInstanceOf(RetryInterruptedError);
    await tick(5);
    const start = Date.now();
    const report = await pool.drain(5_000);
    await outcome;
    expect(Date.now() - start).toBeLessThan(1_000);
    expect(report.timedOut).toBe(false);
    expect(fake.sharedProducers[0]!.sends).toEqual([]);
  });

  it('a handler still running when the drain starts may dead-letter its record', async () => {
    const { pool, fake } = makePool();
    await pool.start();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    await pool.subscribe({ topics: 't', groupId: 'g' }, async () => {
      await gate;
      throw new Error('failed while draining');
    });
    const delivered = fake.consumers[0]!.deliver('1');
    await tick(1);
    const drained = pool.drain(2_000);
    await tick(1);
    release();
    await delivered;
    expect((await drained).timedOut).toBe(false);
    expect(fake.sharedProducers[0]!.sends.map((s) => s.topic)).toEqual(['t.dlq']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaPool } from '../../../lib/kafka/index.js';
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

describe('KafkaPool.subscribe against a real broker: waits, stops and a missing dead-letter topic', () => {
  const interrupted = uniqueName('it-sub-stop');
  const slow = uniqueName('it-sub-slow');
  const orphan = uniqueName('it-sub-nodlt');
  const groups = groupTracker();
  const drops: (() => Promise<void>)[] = [];
  const logger = collectingLogger();
  let pool: KafkaPool;

  beforeAll(async () => {
    drops.push(
      await createTopics([
        { topic: interrupted },
        { topic: `${interrupted}.dlq` },
        { topic: slow },
        { topic: `${slow}.dlq` },
        { topic: orphan }, // its dead-letter topic is created in the test
      ]),
    );
    pool = new KafkaPool(
      {
        brokers: kafkaBrokers(),
        clientId: 'it-sub-stop',
        consumer: {
          sessionTimeoutMs: 6_000,
          heartbeatIntervalMs: 500,
          retry: { retries: 2, initialRetryTimeMs: 100, maxRetryTimeMs: 500 },
          restart: { initialDelayMs: 200, maxDelayMs: 1_000, maxRestarts: 50, windowMs: 60_000 },
        },
      },
      { name: 'it-sub-stop', logger },
    );
    await pool.start();
  });

  afterAll(async () => {
    await groups.end(pool);
    for (const drop of drops) await drop();
  });

  it('a stop during a retry wait returns promptly and leaves the record to the next member', async () => {
    const groupId = groups.id('it-sub-stop');
    const options = {
      topics: interrupted,
      groupId,
      fromBeginning: true,
      retry: { attempts: 3, delayMs: 30_000 },
    };
    let failures = 0;
    const first = groups.keep(
      await pool.subscribe(options, async () => {
        failures++;
        throw new Error('not now');
      }),
    );
    await pool.send({ topic: interrupted, messages: [{ key: 'k', value: '"x"' }] });
    await waitFor(() => failures === 1, 30_000, 'the first attempt');
    await sleep(300); // inside the 30 s wait now
    const start = performance.now();
    const report = await first.stop(10_000);
    expect(performance.now() - start).toBeLessThan(3_000);
    expect(report.timedOut).toBe(false);
    expect(failures).toBe(1);

    const redelivered: { value: unknown; attempt: number }[] = [];
    groups.keep(
      await pool.subscribe(options, async (value, context) => {
        redelivered.push({ value, attempt: context.attempt });
      }),
    );
    await waitFor(() => redelivered.length === 1, 30_000, 'the record, delivered again');
    expect(redelivered).toEqual([{ value: 'x', attempt: 1 }]);
    expect(await readRecords(`${interrupted}.dlq`, { timeoutMs: 2_000 })).toEqual([]);
  });

  it('a retry wait longer than the session timeout heartbeats: the member keeps its partition', async () => {
    const calls: { at: number; attempt: number }[] = [];
    const handle = await pool.subscribe(
      {
        topics: slow,
        groupId: groups.id('it-sub-slow'),
        fromBeginning: true,
        retry: { attempts: 2, delayMs: 8_000 }, // > sessionTimeoutMs (6 s)
      },
      async (_payload, context) => {
        calls.push({ at: performance.now(), attempt: context.attempt });
        if (context.attempt === 1) throw new Error('later');
      },
    );
    groups.keep(handle);
    await pool.send({ topic: slow, messages: [{ value: '"slow"' }] });
    await waitFor(() => calls.length === 2, 30_000, 'the retry');
    expect(calls[1]!.at - calls[0]!.at).toBeGreaterThanOrEqual(7_995);
    await sleep(1_000); // a member evicted meanwhile would rejoin on its next commit
    expect(handle.stats()).toMatchObject({ joins: 1, rebalances: 0, crashes: 0 });
  });

  it('a missing dead-letter topic is a clear error in the logs; nothing is lost once it exists', async () => {
    let calls = 0;
    groups.keep(
      await pool.subscribe(
        {
          topics: orphan,
          groupId: groups.id('it-sub-nodlt'),
          fromBeginning: true,
          retry: { attempts: 2, delayMs: 100 },
        },
        async () => {
          calls++;
          throw new Error('always');
        },
      ),
    );
    await pool.send({ topic: orphan, messages: [{ key: 'keep', value: '"lost?"' }] });
    const missing = (line: string): boolean =>
      line.startsWith('error') &&
      line.includes(`Dead-letter topic "${orphan}.dlq" does not exist`) &&
      line.includes('MQ_KAFKA_DEAD_LETTER_FAILED');
    await waitFor(() => logger.lines.some(missing), 30_000, 'the missing-topic error');
    drops.push(await createTopics([{ topic: `${orphan}.dlq` }]));
    const [dead] = await readRecords(`${orphan}.dlq`, {
      until: (r) => r.length >= 1,
      timeoutMs: 60_000,
    });
    expect(dead).toMatchObject({ key: 'keep', value: '"lost?"' });
    expect(dead!.headers['x-mq-attempts']).toBe('2');
    // The redeliveries went straight to the dead-letter topic: the handler had its two attempts.
    expect(calls).toBe(2);
  });
});

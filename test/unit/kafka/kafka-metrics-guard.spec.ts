import { afterEach, describe, expect, it } from 'vitest';
import type { MqLogger } from '../../../lib/core/logger.js';
import { KafkaPool } from '../../../lib/kafka/index.js';
import type { KafkaMetricsRecorder } from '../../../lib/kafka/kafka-metrics.js';
import { FakeKafka } from './fake-kafka-driver.js';

const pools: KafkaPool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

/** Every method throws, as a recorder with a broken registry or a bad label would. */
class ThrowingRecorder implements KafkaMetricsRecorder {
  calls: string[] = [];
  private fail(method: string): never {
    this.calls.push(method);
    throw new Error(`${method} exploded`);
  }
  sendSucceeded(): void {
    this.fail('sendSucceeded');
  }
  sendFailed(): void {
    this.fail('sendFailed');
  }
  consumed(): void {
    this.fail('consumed');
  }
  consumerCrashed(): void {
    this.fail('consumerCrashed');
  }
  consumerRebalanced(): void {
    this.fail('consumerRebalanced');
  }
  transactionEnded(): void {
    this.fail('transactionEnded');
  }
  reconnected(): void {
    this.fail('reconnected');
  }
  handlerRan(): void {
    this.fail('handlerRan');
  }
  handlerOutcome(): void {
    this.fail('handlerOutcome');
  }
}

function errorLog(): MqLogger & { errors: { message: string; error: unknown }[] } {
  const errors: { message: string; error: unknown }[] = [];
  const ignore = (): void => undefined;
  return {
    errors,
    debug: ignore,
    info: ignore,
    warn: ignore,
    error: (message, fields) => errors.push({ message, error: fields?.['error'] }),
  };
}

describe('KafkaPool with a metrics recorder that throws', () => {
  it('logs the throw and carries on: sends and transactions resolve as if nothing was recorded', async () => {
    const recorder = new ThrowingRecorder();
    const logger = errorLog();
    const pool = new KafkaPool(
      {
        brokers: ['b:9092'],
        sendTimeoutMs: 200,
        startTimeoutMs: 200,
        transactions: { transactionalIdPrefix: 'tx', maxProducers: 1 },
      },
      { name: 'unit', driver: new FakeKafka().factory, logger, metrics: recorder },
    );
    pools.push(pool);
    await pool.start();

    const record = { topic: 't', messages: [{ value: 'v' }] };
    await expect(pool.send(record)).resolves.toBeDefined();
    await expect(pool.withTransaction(async (tx) => tx.send(record).then(() => 42))).resolves.toBe(
      42,
    );

    expect(recorder.calls).toEqual(expect.arrayContaining(['sendSucceeded', 'transactionEnded']));
    expect(logger.errors.map((e) => e.message)).toEqual(
      expect.arrayContaining([
        'Kafka metrics recorder sendSucceeded() threw; ignored',
        'Kafka metrics recorder transactionEnded() threw; ignored',
      ]),
    );
    expect(logger.errors.find((e) => e.message.includes('sendSucceeded'))?.error).toMatchObject({
      message: 'sendSucceeded exploded',
    });
    expect(pool.stats().producer).toMatchObject({ sent: 1, failed: 0, inFlight: 0 });
  });
});

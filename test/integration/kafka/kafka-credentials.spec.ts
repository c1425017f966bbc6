import { describe, expect, it } from 'vitest';
import { BrokerUnreachableError, KafkaPool } from '../../../lib/kafka/index.js';
import { kafkaBrokers } from '../../support/broker-env.js';
import { collectingLogger } from './kafka-test-support.js';

describe('KafkaPool credentials', () => {
  it('a SASL password never appears in logs (even kafkajs debug logs), errors, health or stats', async () => {
    const secret = 'Sup3r-Secret-Passw0rd';
    const logger = collectingLogger();
    // The test broker speaks PLAINTEXT without SASL: the handshake fails, exercising every error path.
    const pool = new KafkaPool(
      {
        brokers: kafkaBrokers(),
        clientId: 'it-creds',
        sasl: { mechanism: 'plain', username: 'alice', password: secret },
        startTimeoutMs: 3_000,
        sendTimeoutMs: 2_000,
        logLevel: 'debug',
        retry: { retries: 1, initialRetryTimeMs: 50, maxRetryTimeMs: 100 },
      },
      { name: 'creds', logger },
    );
    const startError = await pool.start().catch((e: unknown) => e);
    expect(startError).toBeInstanceOf(BrokerUnreachableError);
    const sendError = await pool
      .send({ topic: 'never', messages: [{ value: 'x' }] })
      .catch((e: unknown) => e);
    const pingError = await pool.ping(2_000).catch((e: unknown) => e);
    expect(pingError).toBeInstanceOf(BrokerUnreachableError);
    await pool.close();

    const seen = [
      ...logger.lines,
      String(startError),
      String(sendError),
      String(pingError),
      JSON.stringify(pool.health()),
      JSON.stringify(pool.stats()),
    ].join('\n');
    expect(logger.lines.length).toBeGreaterThan(5);
    expect(seen).toMatch(/SASL|sasl|authentication/i);
    expect(seen).not.toContain(secret);
  });
});

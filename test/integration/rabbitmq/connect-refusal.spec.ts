import { describe, expect, it } from 'vitest';
import { AcquireTimeoutError } from '../../../lib/core/errors/acquire-timeout.error.js';
import { BrokerAccessDeniedError } from '../../../lib/core/errors/broker-access-denied.error.js';
import { BrokerAuthenticationError } from '../../../lib/core/errors/broker-authentication.error.js';
import { PermanentConnectError } from '../../../lib/core/errors/permanent-connect.error.js';
import { RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import { amqpUrl } from '../../support/broker-env.js';
import { sleep, testLogger, uniqueName } from './support/rabbitmq-admin.js';

/**
 * Refusals no retry fixes, from the real broker: `start()` rejects at once with a typed error that
 * names the pool, the redacted URL and the cause in words (the broker's own error as `cause`); the
 * pool keeps retrying, but only at the slow end of its backoff.
 */
const SECRET = 'refused-pw-9c1e';

function urlWith(change: { password?: string; vhost?: string }): string {
  const url = new URL(amqpUrl());
  if (change.password !== undefined) url.password = change.password;
  if (change.vhost !== undefined) url.pathname = `/${change.vhost}`;
  return url.toString();
}

async function startError(pool: RabbitMqPool): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await pool.start().then(
    () => undefined,
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started };
}

describe('RabbitMQ refusals at start', () => {
  it('a wrong password: BrokerAuthenticationError at once, the 403 as cause, no password anywhere', async () => {
    const logger = testLogger();
    const pool = new RabbitMqPool(
      { url: urlWith({ password: SECRET }), connectionName: uniqueName('refused-auth') },
      { name: 'refused-auth', logger },
    );
    try {
      const { error, ms } = await startError(pool);
      expect(error).toBeInstanceOf(BrokerAuthenticationError);
      expect(error).toBeInstanceOf(PermanentConnectError);
      const e = error as BrokerAuthenticationError;
      expect(e.code).toBe('MQ_BROKER_AUTHENTICATION_FAILED');
      expect(e.pool).toBe('refused-auth');
      expect(e.message).toMatch(
        /^RabbitMQ pool "refused-auth" cannot connect to amqp:\/\/\*\*\*@.*: the broker refused the credentials \(403 ACCESS-REFUSED\)\. Check the user and password/,
      );
      expect((e.cause as Error).message).toMatch(/403 \(ACCESS-REFUSED\)/);
      // Well before connectTimeoutMs (5 s): one attempt, no retry loop first.
      expect(ms).toBeLessThan(2_000);
      expect(`${e.message} ${logger.lines.join('\n')}`).not.toContain(SECRET);
    } finally {
      await pool.close();
    }
  });

  it('a vhost that does not exist: BrokerAccessDeniedError naming the vhost', async () => {
    const pool = new RabbitMqPool(
      { url: urlWith({ vhost: 'no-such-vhost-it' }), connectionName: uniqueName('refused-vhost') },
      { name: 'refused-vhost', logger: testLogger() },
    );
    try {
      const { error, ms } = await startError(pool);
      expect(error).toBeInstanceOf(BrokerAccessDeniedError);
      expect((error as Error).message).toMatch(
        /refused to open vhost "no-such-vhost-it" \(530 NOT_ALLOWED/,
      );
      expect(ms).toBeLessThan(2_000);
    } finally {
      await pool.close();
    }
  });

  it('after a refusal the pool retries at reconnect.maxDelayMs only, and callers time out with the refusal as cause', async () => {
    const maxDelayMs = 400;
    const pool = new RabbitMqPool(
      {
        url: urlWith({ password: SECRET }),
        connectionName: uniqueName('refused-slow'),
        reconnect: { initialDelayMs: 5, maxDelayMs },
        acquireTimeoutMs: 600,
      },
      { name: 'refused-slow', logger: testLogger() },
    );
    try {
      await startError(pool);
      const before = pool.stats().connectAttempts;
      const windowMs = 1_600;
      await sleep(windowMs);
      const attempts = pool.stats().connectAttempts - before;
      // Two slots (publisher, consumer), each at most one attempt per maxDelayMs. With the
      // transient backoff from 5 ms the same window holds dozens.
      expect(attempts).toBeGreaterThanOrEqual(2);
      expect(attempts).toBeLessThanOrEqual(2 * (Math.ceil(windowMs / maxDelayMs) + 1));

      const acquire = await pool.acquire().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(acquire).toBeInstanceOf(AcquireTimeoutError);
      expect((acquire as Error).cause).toBeInstanceOf(BrokerAuthenticationError);
    } finally {
      await pool.close();
    }
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidPoolOptionsError } from '../../../lib/core/errors/invalid-pool-options.error.js';
import { RabbitMqPool } from '../../../lib/rabbitmq/index.js';

/** The checks run before any I/O, so an unstarted pool (nothing listening there) shows them. */
describe('RabbitMqPool per-call durations', () => {
  const pool = (): RabbitMqPool =>
    new RabbitMqPool({ url: 'amqp://127.0.0.1:1' }, { name: 'arguments' });

  it('ping() rejects a timeout Node would fire after 1 ms (NaN, 0, negative, > 2147483647)', async () => {
    const p = pool();
    for (const bad of [Number.NaN, 0, -5, 2_147_483_648]) {
      const error = await p.ping(bad).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidPoolOptionsError);
      expect(error).toMatchObject({ key: 'timeoutMs' });
    }
    await p.close();
  });

  it('drain() rejects a bad deadline without starting a drain; a valid one then drains', async () => {
    const p = pool();
    for (const bad of [Number.NaN, -1, 2_147_483_648, Number.POSITIVE_INFINITY]) {
      await expect(p.drain(bad)).rejects.toMatchObject({
        code: 'MQ_POOL_INVALID_OPTIONS',
        key: 'deadlineMs',
      });
    }
    expect(p.stats().draining).toBe(false);
    await expect(p.drain(0)).resolves.toBeDefined();
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidPoolOptionsError } from '../../../lib/core/errors/invalid-pool-options.error.js';
import { NO_RETRY } from '../../../lib/core/handler-retry-policy.js';
import { validateSubscribeOptions } from '../../../lib/rabbitmq/subscribe-options.validator.js';

function keyOf(options: unknown): string {
  try {
    validateSubscribeOptions(options);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidPoolOptionsError);
    return (e as InvalidPoolOptionsError).key;
  }
  throw new Error('expected InvalidPoolOptionsError');
}

describe('subscribe() options validation', () => {
  it('defaults: durable queue, no retry, the dead-letter queue ${queue}.dlq', () => {
    expect(validateSubscribeOptions({ queue: 'orders' })).toEqual({
      queue: 'orders',
      exchange: undefined,
      routingKey: undefined,
      queueOptions: { durable: true },
      prefetch: undefined,
      retry: NO_RETRY,
      deadLetter: { exchange: '', routingKey: 'orders.dlq', declareQueue: 'orders.dlq' },
    });
  });

  it('keeps a dead-letter exchange (routing key: the original one) and deadLetter: false', () => {
    expect(
      validateSubscribeOptions({ queue: 'orders', deadLetter: { exchange: 'dlx' } }).deadLetter,
    ).toEqual({ exchange: 'dlx', routingKey: undefined });
    expect(validateSubscribeOptions({ queue: 'orders', deadLetter: false }).deadLetter).toBe(false);
  });

  it.each([
    ['a missing queue', {}, 'subscribe.queue'],
    ['an empty queue', { queue: '' }, 'subscribe.queue'],
    ['an unknown key', { queue: 'orders', pool: 'x' }, 'subscribe(orders).pool'],
    ['prefetch 0', { queue: 'orders', prefetch: 0 }, 'subscribe(orders).prefetch'],
    ['prefetch above 65535', { queue: 'orders', prefetch: 70_000 }, 'subscribe(orders).prefetch'],
    [
      'retry without attempts',
      { queue: 'orders', retry: { delayMs: 10 } },
      'subscribe(orders).retry.attempts',
    ],
    [
      'retry attempts 0',
      { queue: 'orders', retry: { attempts: 0, delayMs: 10 } },
      'subscribe(orders).retry.attempts',
    ],
    [
      'a negative delay in the list',
      { queue: 'orders', retry: { attempts: 3, delayMs: [10, -1] } },
      'subscribe(orders).retry.delayMs.1',
    ],
    [
      'a routing key without exchange',
      { queue: 'orders', routingKey: 'a' },
      'subscribe(orders).routingKey',
    ],
    [
      'an empty routing key list',
      { queue: 'orders', exchange: 'x', routingKey: [] },
      'subscribe(orders).routingKey',
    ],
    [
      'a quorum queue that is not durable',
      { queue: 'orders', queueOptions: { type: 'quorum', durable: false } },
      'subscribe(orders).queueOptions.durable',
    ],
    [
      'a queue type that does not exist',
      { queue: 'orders', queueOptions: { type: 'lazy' } },
      'subscribe(orders).queueOptions.type',
    ],
    ['deadLetter true', { queue: 'orders', deadLetter: true }, 'subscribe(orders).deadLetter'],
    [
      'a dead-letter target without exchange',
      { queue: 'orders', deadLetter: { routingKey: 'x' } },
      'subscribe(orders).deadLetter.exchange',
    ],
    [
      "the default exchange '' without a routing key",
      { queue: 'orders', deadLetter: { exchange: '' } },
      'subscribe(orders).deadLetter.routingKey',
    ],
    [
      'a queue name whose derived names exceed 255 bytes',
      { queue: 'q'.repeat(250), retry: { attempts: 2, delayMs: 1000 } },
      `subscribe(${'q'.repeat(250)}).queue`,
    ],
  ])('rejects %s, naming the key', (_, options, key) => {
    expect(keyOf(options)).toBe(key);
  });
});

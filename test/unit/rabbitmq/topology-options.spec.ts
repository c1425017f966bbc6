import { describe, expect, it } from 'vitest';
import { InvalidPoolOptionsError } from '../../../lib/core/errors/invalid-pool-options.error.js';
import { validateRabbitMqOptions } from '../../../lib/rabbitmq/index.js';

function keyOf(topology: unknown): string {
  try {
    validateRabbitMqOptions({ url: 'amqp://localhost', topology });
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidPoolOptionsError);
    return (e as InvalidPoolOptionsError).key;
  }
  throw new Error('expected InvalidPoolOptionsError');
}

describe('rabbitmq.topology validation', () => {
  it('resolves to empty lists when absent', () => {
    expect(validateRabbitMqOptions({ url: 'amqp://localhost' }).topology).toEqual({
      exchanges: [],
      queues: [],
      bindings: [],
    });
  });

  it('accepts a full topology; a binding may name entities it does not declare', () => {
    const topology = {
      exchanges: [{ name: 'orders', type: 'topic', options: { durable: true } }],
      queues: [
        {
          name: 'orders.created',
          type: 'quorum',
          options: { arguments: { 'x-delivery-limit': 5 } },
        },
        { name: 'audit', options: { messageTtl: 60_000, deadLetterExchange: 'dlx' } },
      ],
      bindings: [
        { exchange: 'orders', queue: 'orders.created', routingKey: 'orders.created' },
        { exchange: 'legacy', queue: 'elsewhere' },
      ],
    };
    expect(validateRabbitMqOptions({ url: 'amqp://localhost', topology }).topology).toEqual(
      topology,
    );
  });

  it.each([
    ['not an object', 'x', 'rabbitmq.topology'],
    ['an unknown top-level key', { exchange: [] }, 'rabbitmq.topology.exchange'],
    ['queues not a list', { queues: {} }, 'rabbitmq.topology.queues'],
    [
      'a queue type that does not exist',
      { queues: [{ name: 'a' }, { name: 'b', type: 'stream' }] },
      'rabbitmq.topology.queues[1].type',
    ],
    [
      'a queue without a name',
      { queues: [{ type: 'quorum' }] },
      'rabbitmq.topology.queues[0].name',
    ],
    [
      'an unknown key in a queue',
      { queues: [{ name: 'a', durable: true }] },
      'rabbitmq.topology.queues[0].durable',
    ],
    [
      'a typo in amqplib queue options',
      { queues: [{ name: 'a', options: { durabel: true } }] },
      'rabbitmq.topology.queues[0].options.durabel',
    ],
    [
      'a non-durable quorum queue',
      { queues: [{ name: 'a', type: 'quorum', options: { durable: false } }] },
      'rabbitmq.topology.queues[0].options.durable',
    ],
    [
      'a queue declared twice',
      { queues: [{ name: 'a' }, { name: 'a' }] },
      'rabbitmq.topology.queues[1].name',
    ],
    [
      'an exchange without a type',
      { exchanges: [{ name: 'x' }] },
      'rabbitmq.topology.exchanges[0].type',
    ],
    [
      'an exchange type that does not exist',
      { exchanges: [{ name: 'x', type: 'delayed' }] },
      'rabbitmq.topology.exchanges[0].type',
    ],
    [
      'a non-boolean exchange option',
      { exchanges: [{ name: 'x', type: 'topic', options: { durable: 'yes' } }] },
      'rabbitmq.topology.exchanges[0].options.durable',
    ],
    [
      'a binding without a queue',
      { bindings: [{ exchange: 'x' }] },
      'rabbitmq.topology.bindings[0].queue',
    ],
    [
      'a binding to the default exchange',
      { bindings: [{ exchange: '', queue: 'q' }] },
      'rabbitmq.topology.bindings[0].exchange',
    ],
    [
      'a non-string routing key',
      { bindings: [{ exchange: 'x', queue: 'q', routingKey: 1 }] },
      'rabbitmq.topology.bindings[0].routingKey',
    ],
  ])('rejects %s, naming the key', (_, topology, key) => {
    expect(keyOf(topology)).toBe(key);
  });
});

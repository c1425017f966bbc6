import { describe, expect, it } from 'vitest';
import { InvalidPoolOptionsError } from '../../../lib/core/errors/invalid-pool-options.error.js';
import type { RabbitRpcOptions } from '../../../lib/rabbitmq/index.js';
import { validateRpcServeOptions } from '../../../lib/rabbitmq/rpc-serve-options.validator.js';

const invalid = (input: unknown): InvalidPoolOptionsError => {
  try {
    validateRpcServeOptions(input as RabbitRpcOptions);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidPoolOptionsError);
    return e as InvalidPoolOptionsError;
  }
  throw new Error('expected InvalidPoolOptionsError');
};

describe('validateRpcServeOptions', () => {
  it('resolves the queue spec and the prefetch', () => {
    expect(validateRpcServeOptions({ queue: 'q' })).toEqual({
      spec: { queue: 'q', queueOptions: { durable: true } },
      prefetch: undefined,
    });
    expect(
      validateRpcServeOptions({
        queue: 'q',
        exchange: 'x',
        routingKey: ['a', 'b'],
        queueOptions: { type: 'quorum', arguments: { 'x-max-length': 10 } },
        prefetch: 5,
      }),
    ).toEqual({
      spec: {
        queue: 'q',
        exchange: 'x',
        routingKey: ['a', 'b'],
        queueOptions: { durable: true, type: 'quorum', arguments: { 'x-max-length': 10 } },
      },
      prefetch: 5,
    });
  });

  it.each([
    [{}, 'serveRpc.queue', /missing/],
    [{ queue: '' }, 'serveRpc.queue', /non-empty/],
    [{ queue: 'q', retry: { attempts: 2 } }, 'serveRpc(q).retry', /unknown option/],
    [{ queue: 'q', routingKey: 'k' }, 'serveRpc(q).routingKey', /without an exchange/],
    [{ queue: 'q', exchange: 'x', routingKey: [1] }, 'serveRpc(q).routingKey', /list of strings/],
    [{ queue: 'q', prefetch: 0 }, 'serveRpc(q).prefetch', /between 1 and 65535/],
    [{ queue: 'q', queueOptions: { type: 'stream' } }, 'serveRpc(q).queueOptions.type', /one of/],
    [
      { queue: 'q', queueOptions: { durable: 'yes' } },
      'serveRpc(q).queueOptions.durable',
      /boolean/,
    ],
    [null, 'serveRpc', /must be an object/],
  ])('rejects %j naming %s', (input, key, problem) => {
    const e = invalid(input);
    expect(e.key).toBe(key);
    expect(e.message).toMatch(problem);
  });
});

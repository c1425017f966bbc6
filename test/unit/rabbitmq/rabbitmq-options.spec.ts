import { describe, expect, it } from 'vitest';
import { InvalidPoolOptionsError } from '../../../lib/core/errors/invalid-pool-options.error.js';
import { DEFAULT_RABBITMQ_OPTIONS, validateRabbitMqOptions } from '../../../lib/rabbitmq/index.js';

function invalid(input: unknown): InvalidPoolOptionsError {
  try {
    validateRabbitMqOptions(input);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidPoolOptionsError);
    return e as InvalidPoolOptionsError;
  }
  throw new Error('expected InvalidPoolOptionsError');
}

describe('validateRabbitMqOptions', () => {
  it('fills every default from DEFAULT_RABBITMQ_OPTIONS', () => {
    const o = validateRabbitMqOptions({ url: 'amqp://localhost' }, 'orders');
    expect(o).toMatchObject({
      ...DEFAULT_RABBITMQ_OPTIONS,
      urls: ['amqp://localhost'],
      connectionName: 'nestjs-mq-pool:orders',
    });
  });

  it('accepts several URLs (cluster nodes) and nested reconnect options', () => {
    const o = validateRabbitMqOptions({
      url: ['amqp://a:5672', 'amqps://u:p@b:5671/vh'],
      reconnect: { initialDelayMs: 50 },
      socketOptions: { ca: ['x'] },
    });
    expect(o.urls).toHaveLength(2);
    expect(o.reconnect).toEqual({
      initialDelayMs: 50,
      maxDelayMs: DEFAULT_RABBITMQ_OPTIONS.reconnect.maxDelayMs,
    });
    expect(o.socketOptions).toEqual({ ca: ['x'] });
  });

  it.each([
    [
      { url: 'amqp://h', chanelsPerConnection: 4 },
      'rabbitmq.chanelsPerConnection',
      /unknown option/,
    ],
    [
      { url: 'amqp://h', reconnect: { maxDelay: 5 } },
      'rabbitmq.reconnect.maxDelay',
      /unknown option/,
    ],
    [{}, 'rabbitmq.url', /required/],
    [{ url: [] }, 'rabbitmq.url', /required/],
    [{ url: 'http://h' }, 'rabbitmq.url', /protocol/],
    [{ url: ['amqp://h', 7] }, 'rabbitmq.url[1]', /non-empty string/],
    [{ url: 'amqp://h', connections: 0 }, 'rabbitmq.connections', /integer between 1 and 64/],
    [{ url: 'amqp://h', channelsPerConnection: 2.5 }, 'rabbitmq.channelsPerConnection', /integer/],
    [{ url: 'amqp://h', acquireTimeoutMs: '5000' }, 'rabbitmq.acquireTimeoutMs', /got "5000"/],
    [{ url: 'amqp://h', maxWaiting: -1 }, 'rabbitmq.maxWaiting', /integer between 0 and/],
    [
      { url: 'amqp://h', confirmTimeoutMs: 0 },
      'rabbitmq.confirmTimeoutMs',
      /integer between 1 and/,
    ],
    [{ url: 'amqp://h', heartbeatSeconds: Number.NaN }, 'rabbitmq.heartbeatSeconds', /integer/],
    [{ url: 'amqp://h', leakDetectionMs: null }, 'rabbitmq.leakDetectionMs', /got null/],
    [
      { url: 'amqp://h', connections: 1, channelsPerConnection: 2, publishChannels: 3 },
      'rabbitmq.publishChannels',
      /between 1 and 2,/,
    ],
    [{ url: 'amqp://h', minChannels: 100 }, 'rabbitmq.minChannels', /between 0 and 16,/],
    [
      { url: 'amqp://h', maxInFlightPerChannel: 0 },
      'rabbitmq.maxInFlightPerChannel',
      /integer between 1 and 65535/,
    ],
    [
      { url: 'amqp://h', reconnect: { initialDelayMs: 500, maxDelayMs: 100 } },
      'rabbitmq.reconnect.maxDelayMs',
      /below/,
    ],
    [{ url: 'amqp://h', reconnect: 5 }, 'rabbitmq.reconnect', /must be an object/],
    [{ url: 'amqp://h', socketOptions: 'tls' }, 'rabbitmq.socketOptions', /must be an object/],
    [{ url: 'amqp://h', connectionName: '' }, 'rabbitmq.connectionName', /non-empty/],
    [{ url: 'amqp://h', coalesceWrites: 'yes' }, 'rabbitmq.coalesceWrites', /boolean, got "yes"/],
    [
      { url: 'amqp://h', captureLeakSite: 'always' },
      'rabbitmq.captureLeakSite',
      /true, false or 'afterFirstLeak', got string/,
    ],
    [null, 'rabbitmq', /must be an object/],
    [{ url: 'amqp://h', rpc: 5000 }, 'rabbitmq.rpc', /must be an object/],
    [{ url: 'amqp://h', rpc: { timeout: 1 } }, 'rabbitmq.rpc.timeout', /unknown option/],
    [{ url: 'amqp://h', rpc: { timeoutMs: 0 } }, 'rabbitmq.rpc.timeoutMs', /between 1 and/],
    [{ url: 'amqp://h', rpc: { maxOutstanding: 1.5 } }, 'rabbitmq.rpc.maxOutstanding', /integer/],
  ])('rejects %j naming %s', (input, key, problem) => {
    const e = invalid(input);
    expect(e.key).toBe(key);
    expect(e.message).toMatch(problem);
    expect(e.message).toMatch(/Fix:/);
  });

  it('never echoes credentials of a bad URL', () => {
    expect(invalid({ url: 'http://user:s3cret@host' }).message).not.toContain('s3cret');
    expect(invalid({ url: 'not a url with s3cret' }).message).not.toContain('s3cret');
  });

  it('resolves rpc options over their defaults', () => {
    expect(validateRabbitMqOptions({ url: 'amqp://h' }).rpc).toEqual({
      timeoutMs: 5_000,
      maxOutstanding: 1_000,
    });
    expect(validateRabbitMqOptions({ url: 'amqp://h', rpc: { timeoutMs: 250 } }).rpc).toEqual({
      timeoutMs: 250,
      maxOutstanding: 1_000,
    });
  });
});

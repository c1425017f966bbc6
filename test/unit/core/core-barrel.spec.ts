import { describe, expect, it } from 'vitest';

import * as core from '../../../lib/core/index.js';

describe('lib/core barrel', () => {
  it('exports the public core and nothing internal', () => {
    expect(Object.keys(core).sort()).toEqual(
      [
        'AcquireTimeoutError',
        'BrokerAccessDeniedError',
        'BrokerAuthenticationError',
        'BrokerTlsError',
        'DEFAULT_POOL_OPTIONS',
        'InvalidPoolOptionsError',
        'JSON_SERIALIZER',
        'NO_RETRY',
        'NonRetriableError',
        'PayloadDeserializationError',
        'LeaseReleasedError',
        'MqPoolError',
        'NOOP_LOGGER',
        'NOOP_POOL_METRICS',
        'PermanentConnectError',
        'Pool',
        'PoolClosedError',
        'PoolExhaustedError',
        'PoolInvariantError',
        'SYSTEM_CLOCK',
        'fullJitterBackoff',
        'redactUrl',
        'resolvePoolOptions',
      ].sort(),
    );
  });

  it('every error has a stable code and extends MqPoolError', () => {
    const stats = new core.Pool(
      { create: async () => 1, destroy: async () => undefined },
      { max: 1 },
    ).stats();
    const errors = [
      new core.AcquireTimeoutError({ pool: 'p', timeoutMs: 1, stats }),
      new core.PoolExhaustedError({ pool: 'p', reason: 'maxWaiting', stats, maxWaiting: 0 }),
      new core.PoolClosedError('p', 'closed'),
      new core.LeaseReleasedError('p', 'released'),
      new core.PoolInvariantError('x'),
      ...[core.BrokerAuthenticationError, core.BrokerAccessDeniedError, core.BrokerTlsError].map(
        (E) =>
          new E(
            { broker: 'RabbitMQ', pool: 'p', target: 't', reason: 'r', cause: undefined },
            'fix',
          ),
      ),
    ];
    expect(errors.map((e) => [e.name, e.code])).toEqual([
      ['AcquireTimeoutError', 'MQ_POOL_ACQUIRE_TIMEOUT'],
      ['PoolExhaustedError', 'MQ_POOL_EXHAUSTED'],
      ['PoolClosedError', 'MQ_POOL_CLOSED'],
      ['LeaseReleasedError', 'MQ_POOL_LEASE_RELEASED'],
      ['PoolInvariantError', 'MQ_POOL_INVARIANT'],
      ['BrokerAuthenticationError', 'MQ_BROKER_AUTHENTICATION_FAILED'],
      ['BrokerAccessDeniedError', 'MQ_BROKER_ACCESS_DENIED'],
      ['BrokerTlsError', 'MQ_BROKER_TLS_FAILED'],
    ]);
    for (const e of errors) expect(e).toBeInstanceOf(core.MqPoolError);
  });
});

import { describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { InvalidPoolOptionsError, MqPoolModule } from '../../../lib/index.js';
import { resolveModuleOptions } from '../../../lib/nest/mq-pool-module-options.validator.js';

const rabbitmq = { url: 'amqp://user:s3cret@broker.internal:5672' };

function failure(input: unknown, name = 'default'): InvalidPoolOptionsError {
  try {
    resolveModuleOptions(input, name);
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidPoolOptionsError);
    return e as InvalidPoolOptionsError;
  }
  throw new Error('expected InvalidPoolOptionsError');
}

describe('module options validation', () => {
  it('applies defaults', () => {
    const o = resolveModuleOptions({ rabbitmq }, 'default');
    expect(o).toMatchObject({
      name: 'default',
      drainTimeoutMs: 15_000,
      failFast: true,
      metrics: { enabled: true, registry: undefined },
    });
  });

  it('rejects unknown top-level keys, naming the key and the known ones', () => {
    const e = failure({ rabbitmq, rabitmq: {} });
    expect(e.key).toBe('rabitmq');
    expect(e.message).toMatch(/unknown option.*known options are: name, rabbitmq, kafka/);
  });

  it('requires at least one broker', () => {
    const e = failure({ shutdown: { drainTimeoutMs: 20_000 } });
    expect(e.message).toMatch(/configures no broker.*Fix: add rabbitmq: \{ url/);
  });

  it('rejects unknown nested keys and bad values with the fix', () => {
    expect(failure({ rabbitmq, shutdown: { drainTimeout: 1 } }).key).toBe('shutdown.drainTimeout');
    const e = failure({ rabbitmq, shutdown: { drainTimeoutMs: -5 } });
    expect(e.key).toBe('shutdown.drainTimeoutMs');
    expect(e.message).toMatch(
      /integer between 1 and 600000.*Fix: set "shutdown.drainTimeoutMs" to an integer/,
    );
    expect(failure({ rabbitmq, metrics: { enabled: 'yes' } }).key).toBe('metrics.enabled');
    expect(failure({ rabbitmq, metrics: { registry: {} } }).key).toBe('metrics.registry');
    expect(failure({ rabbitmq, logger: console.log }).key).toBe('logger');
    expect(failure({ rabbitmq, startup: { failFast: 1 } }).key).toBe('startup.failFast');
  });

  it('delegates rabbitmq/kafka keys to the adapters (prefixed keys)', () => {
    expect(failure({ rabbitmq: { ...rabbitmq, channelsPerConection: 3 } }).key).toBe(
      'rabbitmq.channelsPerConection',
    );
    expect(failure({ kafka: { brokers: [] } }).key).toMatch(/^kafka\.brokers/);
  });

  it('cross-checks the drain budget against the confirm and send deadlines', () => {
    const e = failure({
      rabbitmq: { ...rabbitmq, confirmTimeoutMs: 20_000 },
      shutdown: { drainTimeoutMs: 15_000 },
    });
    expect(e.key).toBe('shutdown.drainTimeoutMs');
    expect(e.message).toMatch(
      /shorter than rabbitmq\.confirmTimeoutMs \(20000 ms\).*Fix: raise shutdown\.drainTimeoutMs to at least 20000/,
    );
    expect(
      failure({ kafka: { brokers: ['k:9092'] }, shutdown: { drainTimeoutMs: 5_000 } }).message,
    ).toMatch(/kafka\.sendTimeoutMs/);
    expect(() =>
      resolveModuleOptions(
        { rabbitmq: { ...rabbitmq, confirmTimeoutMs: 2_000 }, shutdown: { drainTimeoutMs: 2_000 } },
        'x',
      ),
    ).not.toThrow();
  });

  it('refuses static keys returned by an async factory, and a different name', () => {
    expect(failure({ rabbitmq, httpBackpressure: false }).message).toMatch(
      /forRootAsync\(\{ httpBackpressure: \.\.\., useFactory \}\)/,
    );
    expect(failure({ rabbitmq, isGlobal: true }).key).toBe('isGlobal');
    expect(failure({ rabbitmq, name: 'other' }, 'orders').message).toMatch(
      /pass the name statically/,
    );
    expect(() => resolveModuleOptions({ rabbitmq, name: 'orders' }, 'orders')).not.toThrow();
  });

  it('accepts a prom-client registry and either logger flavour', () => {
    const registry = new Registry();
    expect(resolveModuleOptions({ rabbitmq, metrics: { registry } }, 'd').metrics.registry).toBe(
      registry,
    );
    const mq = { debug() {}, info() {}, warn() {}, error() {} };
    expect(resolveModuleOptions({ rabbitmq, logger: mq }, 'd').logger).toBe(mq);
    const nest = { log() {}, warn() {}, error() {} };
    expect(resolveModuleOptions({ rabbitmq, logger: nest }, 'd').logger).not.toBe(nest);
  });

  it('never echoes credentials in an error', () => {
    const e = failure({ rabbitmq: { url: 'amqp://user:s3cret@host:5672', heartbeatSeconds: 'x' } });
    expect(e.message).not.toContain('s3cret');
  });

  it('validates the name eagerly, when forRoot()/forRootAsync() is evaluated', () => {
    expect(() => MqPoolModule.forRoot({ name: 'bad name!', rabbitmq })).toThrow(
      /Invalid option "name"/,
    );
    expect(() => MqPoolModule.forRootAsync({ name: '', useFactory: () => ({ rabbitmq }) })).toThrow(
      InvalidPoolOptionsError,
    );
    expect(() =>
      MqPoolModule.forRootAsync({
        httpBackpressure: 'no' as unknown as boolean,
        useFactory: () => ({ rabbitmq }),
      }),
    ).toThrow(/httpBackpressure/);
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidPoolOptionsError, PoolNotRegisteredError } from '../../../lib/index.js';
import { poolRegistry } from '../../../lib/nest/pool-registry.js';
import { FakeRabbitMqPool } from './support/fake-rabbitmq-pool.js';

describe('process-wide pool registry', () => {
  it('finds pools by name and explains unknown names and missing brokers', () => {
    const owner = {};
    const pool = new FakeRabbitMqPool('reg-a').asPool();
    poolRegistry.register('reg-a', owner, { rabbitmq: pool, kafka: undefined });
    try {
      expect(poolRegistry.rabbitmq('reg-a')).toBe(pool);
      expect(poolRegistry.rabbitPools()).toContainEqual(['reg-a', pool]);
      expect(() => poolRegistry.rabbitmq('reg-b')).toThrow(
        /No RabbitMQ pool "reg-b": no registration has that name \(running: "reg-a"\)/,
      );
      const e = (() => {
        try {
          poolRegistry.kafka('reg-a');
        } catch (err) {
          return err as PoolNotRegisteredError;
        }
      })();
      expect(e).toBeInstanceOf(PoolNotRegisteredError);
      expect(e?.message).toMatch(
        /registration "reg-a" has no `kafka` options\. Fix: add them: MqPoolModule\.forRoot\(\{ name: 'reg-a', kafka: \{ brokers/,
      );
    } finally {
      poolRegistry.unregister('reg-a', owner);
    }
    expect(poolRegistry.rabbitPools()).toEqual([]);
    expect(() => poolRegistry.rabbitmq('reg-a')).toThrow(/no MqPoolModule registration is running/);
  });

  it('a name belongs to one running app at a time', () => {
    const first = {};
    poolRegistry.register('dup', first, {
      rabbitmq: new FakeRabbitMqPool('dup').asPool(),
      kafka: undefined,
    });
    try {
      expect(() =>
        poolRegistry.register('dup', {}, { rabbitmq: undefined, kafka: undefined }),
      ).toThrow(InvalidPoolOptionsError);
      poolRegistry.unregister('dup', {}); // not the owner: no effect
      expect(poolRegistry.names()).toContain('dup');
    } finally {
      poolRegistry.unregister('dup', first);
    }
  });
});

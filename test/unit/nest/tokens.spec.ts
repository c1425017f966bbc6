import 'reflect-metadata';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_POOL_NAME,
  getPoolToken,
  InjectKafkaPool,
  InjectRabbitMqPool,
} from '../../../lib/index.js';

describe('injection tokens', () => {
  it('are pure functions of kind and name, defaulting to the default pool', () => {
    expect(getPoolToken('rabbitmq')).toBe(getPoolToken('rabbitmq', DEFAULT_POOL_NAME));
    expect(getPoolToken('rabbitmq', 'orders')).toBe('nestjs-mq-pool:rabbitmq:orders');
    expect(getPoolToken('kafka', 'orders')).not.toBe(getPoolToken('rabbitmq', 'orders'));
  });

  it('InjectRabbitMqPool/InjectKafkaPool declare the same tokens as constructor dependencies', () => {
    class Service {
      constructor(
        @InjectRabbitMqPool('orders') readonly rabbit: unknown,
        @InjectKafkaPool() readonly kafka: unknown,
      ) {}
    }
    const deps = Reflect.getMetadata('self:paramtypes', Service) as Array<{
      index: number;
      param: unknown;
    }>;
    const byIndex = new Map(deps.map((d) => [d.index, d.param]));
    expect(byIndex.get(0)).toBe(getPoolToken('rabbitmq', 'orders'));
    expect(byIndex.get(1)).toBe(getPoolToken('kafka', 'default'));
  });
});

import { HealthIndicatorService } from '@nestjs/terminus';
import { describe, expect, it } from 'vitest';
import { KafkaHealthIndicator } from '../../../lib/health/kafka.health.js';
import { MqPoolReadiness, type ReadinessHandler } from '../../../lib/health/mq-pool-readiness.js';
import { RabbitMqHealthIndicator } from '../../../lib/health/rabbitmq.health.js';
import { AppPools } from '../../../lib/nest/app-pools.js';
import type { ResolvedMqPoolModuleOptions } from '../../../lib/nest/mq-pool-module-options.js';

/** A pool whose own state is healthy: only the declared handlers can make it not ready. */
const healthyPool = {
  health: () => ({ healthy: true, details: {} }),
  ping: async () => undefined,
  stats: () => ({ consumers: { total: 0, active: 0, inFlight: 0 } }),
};

function setUp() {
  const pools = new AppPools();
  for (const name of ['default', 'audit']) {
    pools.add({
      name,
      options: { name } as unknown as ResolvedMqPoolModuleOptions,
      rabbitmq: healthyPool as never,
      kafka: healthyPool as never,
    });
  }
  const readiness = new MqPoolReadiness();
  const indicators = new HealthIndicatorService();
  return {
    readiness,
    rabbit: new RabbitMqHealthIndicator(indicators, readiness, pools),
    kafka: new KafkaHealthIndicator(indicators, readiness, pools),
  };
}

describe('readiness of pools with declared message handlers', () => {
  it('each indicator is down while a handler of ITS pool is not attached, naming it, and up once it is', async () => {
    const { readiness, rabbit, kafka } = setUp();
    const orders: ReadinessHandler & { attached: boolean } = {
      kind: 'rabbitmq',
      pool: 'default',
      name: 'Orders.handle',
      attached: false,
    };
    const events = { kind: 'kafka' as const, pool: 'audit', name: 'Events.on', attached: false };
    const untrack = readiness.trackHandlers([orders, events]);

    expect((await rabbit.isHealthy('rabbitmq')).rabbitmq).toMatchObject({
      status: 'down',
      reason: 'message handlers not attached (0/1 attached; waiting: Orders.handle)',
    });
    // Another pool's handlers do not concern this one.
    expect((await rabbit.isHealthy('rabbitmq', { pool: 'audit' })).rabbitmq.status).toBe('up');
    expect((await kafka.isHealthy('kafka')).kafka.status).toBe('up');
    expect((await kafka.isHealthy('kafka', { pool: 'audit' })).kafka).toMatchObject({
      status: 'down',
      reason: 'message handlers not attached (0/1 attached; waiting: Events.on)',
    });

    orders.attached = true;
    events.attached = true;
    expect((await rabbit.isHealthy('rabbitmq')).rabbitmq.status).toBe('up');
    expect((await kafka.isHealthy('kafka', { pool: 'audit' })).kafka.status).toBe('up');

    orders.attached = false;
    untrack();
    expect((await rabbit.isHealthy('rabbitmq')).rabbitmq.status).toBe('up');
  });
});

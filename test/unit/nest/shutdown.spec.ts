import { describe, expect, it } from 'vitest';
import type { MqLogger } from '../../../lib/index.js';
import { MqPoolReadiness } from '../../../lib/health/mq-pool-readiness.js';
import { AppPools } from '../../../lib/nest/app-pools.js';
import type { ResolvedMqPoolModuleOptions } from '../../../lib/nest/mq-pool-module-options.js';
import { drainWithin } from '../../../lib/shutdown/drain-outcome.js';
import { MqPoolShutdown } from '../../../lib/shutdown/mq-pool-shutdown.service.js';

function recordingLogger(): MqLogger & {
  lines: Array<[string, string, Record<string, unknown> | undefined]>;
} {
  const lines: Array<[string, string, Record<string, unknown> | undefined]> = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push([level, message, fields]);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function fakePool(drainMs: number, order: string[], label: string) {
  let draining = false;
  return {
    stats: () => ({ draining, leased: draining ? 0 : 2 }),
    drain: async (deadline: number) => {
      order.push(`${label}:drain(${deadline})`);
      draining = true;
      await new Promise((r) => setTimeout(r, drainMs));
      return { timedOut: false, durationMs: drainMs };
    },
  };
}

describe('shutdown drain', () => {
  it('flips readiness down first, then drains every pool of every registration in parallel and logs one report', async () => {
    const order: string[] = [];
    const logger = recordingLogger();
    const pools = new AppPools();
    const readiness = new MqPoolReadiness();
    const options = (name: string, drainTimeoutMs: number) =>
      ({ name, drainTimeoutMs, logger }) as unknown as ResolvedMqPoolModuleOptions;
    pools.add({
      name: 'default',
      options: options('default', 5_000),
      rabbitmq: fakePool(30, order, 'rabbit') as never,
      kafka: fakePool(30, order, 'kafka') as never,
    });
    pools.add({
      name: 'audit',
      options: options('audit', 7_000),
      rabbitmq: fakePool(30, order, 'audit') as never,
      kafka: undefined,
    });
    const shutdown = new MqPoolShutdown(pools, readiness);

    shutdown.onModuleDestroy();
    expect(readiness.ready).toBe(false);
    const started = Date.now();
    await shutdown.beforeApplicationShutdown('SIGTERM');
    expect(Date.now() - started).toBeLessThan(80); // parallel, not 3 × 30 ms
    expect(order.sort()).toEqual(['audit:drain(7000)', 'kafka:drain(5000)', 'rabbit:drain(5000)']);
    expect(logger.lines).toHaveLength(1);
    const [level, message, fields] = logger.lines[0]!;
    expect(level).toBe('info');
    expect(message).toMatch(/message-broker pools drained in \d+ms/);
    expect(fields).toMatchObject({
      signal: 'SIGTERM',
      pools: expect.arrayContaining([
        expect.objectContaining({
          pool: 'default',
          broker: 'rabbitmq',
          before: { draining: false, leased: 2 },
          after: { draining: true, leased: 0 },
        }),
      ]),
    });
    // Idempotent: a second call (signal during close) does not drain again.
    await shutdown.beforeApplicationShutdown();
    expect(order).toHaveLength(3);
  });

  it('a drain that ignores its deadline cannot hold shutdown beyond the budget plus grace', async () => {
    const stuck = { stats: () => ({}), drain: () => new Promise<never>(() => undefined) };
    const started = Date.now();
    const outcome = await drainWithin(stuck, 'p', 'rabbitmq', 50, 50);
    expect(Date.now() - started).toBeLessThan(500);
    expect(outcome.report).toEqual({ error: 'drain did not settle within 100ms' });
  });
});

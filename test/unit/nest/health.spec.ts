import { HealthIndicatorService } from '@nestjs/terminus';
import { describe, expect, it } from 'vitest';
import {
  checkPoolHealth,
  type HealthCheckablePool,
} from '../../../lib/health/check-pool-health.js';
import { MqPoolReadiness } from '../../../lib/health/mq-pool-readiness.js';
import { safeDetails } from '../../../lib/health/safe-details.js';

function pool(
  over: Partial<HealthCheckablePool> & { healthy?: boolean; reason?: string } = {},
): HealthCheckablePool {
  return {
    health: () => ({
      healthy: over.healthy ?? true,
      ...(over.reason ? { reason: over.reason } : {}),
      details: { connections: 1, channels: { leased: 0 } },
    }),
    ping: over.ping ?? (async () => undefined),
  };
}

const indicators = new HealthIndicatorService();

describe('pool readiness check', () => {
  it('is up with the stats as details when state and ping are fine', async () => {
    const r = await checkPoolHealth(
      indicators,
      new MqPoolReadiness(),
      'rabbitmq',
      pool(),
      undefined,
    );
    expect(r).toEqual({ rabbitmq: { status: 'up', connections: 1, channels: { leased: 0 } } });
  });

  it('is down once the app is shutting down, before anything else', async () => {
    const readiness = new MqPoolReadiness();
    readiness.markShuttingDown();
    const r = await checkPoolHealth(indicators, readiness, 'mq', pool(), undefined);
    expect(r.mq).toMatchObject({ status: 'down', reason: 'shutting down' });
  });

  it("is down with the pool's own reason (reconnecting, blocked, draining, saturated) without pinging", async () => {
    let pinged = false;
    const r = await checkPoolHealth(
      indicators,
      new MqPoolReadiness(),
      'mq',
      pool({
        healthy: false,
        reason: 'pool is draining',
        ping: async () => {
          pinged = true;
        },
      }),
      undefined,
    );
    expect(r.mq).toMatchObject({ status: 'down', reason: 'pool is draining' });
    expect(pinged).toBe(false);
  });

  it('a pool down only for a past failure (pingClears) is re-checked by one ping', async () => {
    let cleared = false;
    let pings = 0;
    const latched: HealthCheckablePool = {
      health: () =>
        cleared
          ? { healthy: true, details: {} }
          : { healthy: false, reason: 'last send failed (timeout)', pingClears: true, details: {} },
      ping: async () => {
        pings++;
        cleared = true;
      },
    };
    const r = await checkPoolHealth(indicators, new MqPoolReadiness(), 'mq', latched, undefined);
    expect(r.mq?.status).toBe('up');
    expect(pings).toBe(1);

    const stillDown: HealthCheckablePool = {
      health: () => ({
        healthy: false,
        reason: 'last send failed (connection)',
        pingClears: true,
        details: {},
      }),
      ping: async () => {
        throw Object.assign(new Error('x'), { code: 'ECONNREFUSED' });
      },
    };
    const down = await checkPoolHealth(
      indicators,
      new MqPoolReadiness(),
      'mq',
      stillDown,
      undefined,
    );
    expect(down.mq).toMatchObject({
      status: 'down',
      reason: 'last send failed (connection); ping failed (ECONNREFUSED)',
    });
    // ping: false means no I/O: the state decides.
    const noPing = await checkPoolHealth(indicators, new MqPoolReadiness(), 'mq', stillDown, {
      ping: false,
    });
    expect(noPing.mq?.status).toBe('down');
  });

  it('is down within the timeout when the ping hangs, even if the ping ignores its deadline', async () => {
    const started = Date.now();
    const r = await checkPoolHealth(
      indicators,
      new MqPoolReadiness(),
      'mq',
      pool({ ping: () => new Promise(() => undefined) }),
      { timeoutMs: 100 },
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(r.mq).toMatchObject({ status: 'down', reason: 'ping timed out after 100ms' });
  });

  it('reports a failed ping by error code only (no hosts)', async () => {
    const failing = pool({
      ping: async () => {
        throw Object.assign(new Error('connect ECONNREFUSED 10.1.2.3:5672'), {
          code: 'ECONNREFUSED',
        });
      },
    });
    const r = await checkPoolHealth(indicators, new MqPoolReadiness(), 'mq', failing, undefined);
    expect(r.mq).toMatchObject({ status: 'down', reason: 'ping failed (ECONNREFUSED)' });
    expect(JSON.stringify(r)).not.toContain('10.1.2.3');
  });

  it('ping: false reads state only', async () => {
    const r = await checkPoolHealth(
      indicators,
      new MqPoolReadiness(),
      'mq',
      pool({
        ping: async () => {
          throw new Error('x');
        },
      }),
      { ping: false },
    );
    expect(r.mq?.status).toBe('up');
  });

  it('details never carry credentials', () => {
    expect(
      safeDetails({
        url: 'amqp://u:p@h',
        nested: { target: 'amqp://user:pw@host:5672/vh', password: 'x' },
        err: new Error('boom'),
      }),
    ).toEqual({
      nested: { target: 'amqp://***@host:5672/vh' },
      err: { error: 'Error' },
    });
  });
});

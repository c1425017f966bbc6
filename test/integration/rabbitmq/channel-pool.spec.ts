import type { ChannelModel, ConfirmChannel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AcquireTimeoutError } from '../../../lib/core/errors/acquire-timeout.error.js';
import { LeaseReleasedError } from '../../../lib/core/errors/lease-released.error.js';
import { PoolExhaustedError } from '../../../lib/core/errors/pool-exhausted.error.js';
import type { ChannelLease, PoolChannelLease } from '../../../lib/rabbitmq/channel-lease.js';
import { ChannelScope } from '../../../lib/rabbitmq/channel-scope.js';
import { RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import type { PooledChannel } from '../../../lib/rabbitmq/pooled-channel.js';
import { amqpUrl } from '../../support/broker-env.js';
import {
  adminConnection,
  channelsOpenOn,
  NO_RABBITMQCTL,
  rabbitmqctlAvailable,
  sleep,
  testLogger,
  uniqueName,
} from './support/rabbitmq-admin.js';

/** The pooled channel behind a lease (internal; its `channel` is a per-lease guard). */
function pooledChannelOf(lease: ChannelLease): PooledChannel {
  return (lease as PoolChannelLease).lease.resource;
}

// A named function, so the leak report's site is easy to find.
async function acquireAndForget(pool: RabbitMqPool) {
  return pool.acquire();
}

describe('RabbitMqPool channel leases (real broker)', () => {
  let admin: ChannelModel;
  let ctl = false;

  beforeAll(async () => {
    admin = await adminConnection(amqpUrl());
    ctl = await rabbitmqctlAvailable();
  });
  afterAll(async () => {
    await admin.close();
  });

  it('leases confirm channels exclusively and reuses a released one', async () => {
    const pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-lease') },
      { name: 'lease' },
    );
    try {
      const a = await pool.acquire();
      const b = await pool.acquire();
      expect(a.channel).not.toBe(b.channel);
      const pooled = pooledChannelOf(a);
      a.release();
      a.release(); // idempotent
      expect(() => a.channel).toThrow(LeaseReleasedError);
      const c = await pool.acquire();
      // The same pooled channel, behind a new lease's guard (leased-channel.spec.ts).
      expect(pooledChannelOf(c)).toBe(pooled);
      c.release();
      b.release();
      expect(pool.stats().channels).toMatchObject({ leased: 0, idle: 2, total: 2 });
    } finally {
      await pool.close();
    }
  });

  it('withChannel is re-entrant through currentChannel() and always releases', async () => {
    const pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-reentrant') },
      { name: 'reentrant' },
    );
    try {
      expect(pool.currentChannel()).toBeUndefined();
      const seen = await pool.withChannel(async (outer) => {
        expect(pool.currentChannel()).toBe(outer);
        const inner = await pool.withChannel(async (ch) => {
          await Promise.resolve();
          return ch;
        });
        expect(pool.stats().channels.leased).toBe(1);
        return [outer, inner];
      });
      expect(seen[0]).toBe(seen[1]);
      expect(pool.currentChannel()).toBeUndefined();
      expect(pool.stats().channels.leased).toBe(0);
      await expect(pool.withChannel(async () => Promise.reject(new Error('boom')))).rejects.toThrow(
        'boom',
      );
      expect(pool.stats().channels.leased).toBe(0);

      // A lazy scope over the pool's leases (what the Nest interceptor enters): the lease is taken
      // on first use, released by end().
      const scope = new ChannelScope(pool.leases);
      await scope.run(async () => {
        expect(pool.currentChannel()).toBeUndefined();
        const a = await pool.withChannel(async (ch) => ch);
        const b = await pool.withChannel(async (ch) => ch);
        expect(a).toBe(b);
        expect(pool.currentChannel()).toBe(a);
      });
      expect(pool.stats().channels.leased).toBe(1);
      scope.end();
      expect(pool.stats().channels.leased).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('a channel the broker closes (404) is destroyed, only its holder sees the error', async () => {
    const pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-404') },
      { name: 'c404' },
    );
    try {
      const other = await pool.acquire();
      const q = uniqueName('lease-q');
      await other.channel.assertQueue(q, { autoDelete: false, durable: false });
      let broken: unknown;
      await pool
        .withChannel(async (ch) => {
          broken = ch;
          await ch.checkQueue(uniqueName('missing-queue'));
        })
        .then(
          () => expect.unreachable(),
          (e: unknown) => expect(String(e)).toMatch(/404/),
        );
      // The other holder's channel is untouched.
      expect(other.alive).toBe(true);
      await other.channel.checkQueue(q);
      // The broken channel never comes back (its guard refuses use; the pooled channel is a new one).
      expect(() => (broken as ConfirmChannel).checkQueue(q)).toThrow(LeaseReleasedError);
      const next = await pool.acquire();
      expect(pooledChannelOf(next).closed).toBe(false);
      await next.channel.checkQueue(q);
      next.release();
      await other.channel.deleteQueue(q);
      other.release();
      expect(pool.stats().channels.leased).toBe(0);
    } finally {
      await pool.close();
    }
  });

  it('waiters fail at their deadline with AcquireTimeoutError; a full wait queue fails at once', async () => {
    const pool = new RabbitMqPool(
      {
        url: amqpUrl(),
        connectionName: uniqueName('it-sat'),
        channelsPerConnection: 2,
        maxWaiting: 1,
        acquireTimeoutMs: 300,
      },
      { name: 'saturated' },
    );
    try {
      const a = await pool.acquire();
      const b = await pool.acquire();
      const waiting = pool.acquire();
      await expect(pool.acquire()).rejects.toBeInstanceOf(PoolExhaustedError);
      const started = Date.now();
      await expect(waiting).rejects.toBeInstanceOf(AcquireTimeoutError);
      expect(Date.now() - started).toBeGreaterThanOrEqual(250);
      expect(pool.health()).toMatchObject({ healthy: true });
      const gotIt = pool.acquire({ timeoutMs: 2_000 });
      setTimeout(() => a.release(), 100);
      (await gotIt).release();
      b.release();
    } finally {
      await pool.close();
    }
  });

  it('the broker never sees more than connections × channelsPerConnection pool channels', async (ctx) => {
    if (!ctl) ctx.skip(NO_RABBITMQCTL);
    const name = uniqueName('it-bound');
    const connections = 2;
    const perConnection = 3;
    const pool = new RabbitMqPool(
      {
        url: amqpUrl(),
        connectionName: name,
        connections,
        channelsPerConnection: perConnection,
        consumerConnections: 0,
        maxWaiting: 10_000,
      },
      { name: 'bound', logger: testLogger() },
    );
    let stop = false;
    try {
      const q = uniqueName('bound-q');
      await pool.withChannel((ch) => ch.assertQueue(q, { durable: false }));
      let maxSeen = 0;
      // 200 concurrent exclusive users and a publish flood, while the broker is sampled.
      const users = Array.from({ length: 200 }, async () => {
        while (!stop) await pool.withChannel(async (ch) => void (await ch.checkQueue(q)));
      });
      const publishers = Array.from({ length: 64 }, async () => {
        while (!stop) await pool.sendToQueue(q, 'x');
      });
      for (let i = 0; i < 3; i++) {
        maxSeen = Math.max(maxSeen, await channelsOpenOn(name));
        expect(pool.stats().channels.total).toBeLessThanOrEqual(connections * perConnection);
      }
      stop = true;
      await Promise.all([...users, ...publishers]);
      expect(maxSeen).toBeGreaterThan(0);
      expect(maxSeen).toBeLessThanOrEqual(connections * perConnection);
      console.log(
        `[bound] broker saw at most ${maxSeen} pool channels (bound ${connections * perConnection})`,
      );
      await pool.withChannel((ch) => ch.deleteQueue(q));
    } finally {
      stop = true;
      await pool.close();
    }
  });

  it('leak detection flags a forgotten lease but not the long-lived publishing channels (rotated)', async () => {
    const pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-leak'), leakDetectionMs: 400 },
      { name: 'leak', logger: testLogger() },
    );
    const leaks: number[] = [];
    const sites: (string | undefined)[] = [];
    pool.on('leak', (l) => {
      leaks.push(l.heldMs);
      sites.push(l.site);
    });
    try {
      const q = uniqueName('leak-q');
      await pool.withChannel((ch) => ch.assertQueue(q, { durable: false }));
      const forgotten = await pool.acquire();
      const until = Date.now() + 1_500;
      let published = 0;
      while (Date.now() < until) {
        await Promise.all(Array.from({ length: 20 }, () => pool.sendToQueue(q, 'x')));
        published += 20;
      }
      expect(published).toBeGreaterThan(0);
      expect(leaks).toHaveLength(1); // the forgotten lease only
      expect(pool.stats().leaks).toBe(1);
      expect(sites).toEqual([undefined]); // acquired before the first leak: no stack was taken
      // The same code path forgets another lease: now the report names it.
      const forgottenAgain = await acquireAndForget(pool);
      for (const until = Date.now() + 2_000; leaks.length < 2 && Date.now() < until;)
        await sleep(20);
      expect(leaks).toHaveLength(2);
      expect(sites[1]).toContain('acquireAndForget');
      forgotten.release();
      forgottenAgain.release();
      await pool.withChannel((ch) => ch.deleteQueue(q));
    } finally {
      await pool.close();
    }
  });

  it('health() and ping() report a live pool without opening connections', async () => {
    const pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-health') },
      { name: 'health' },
    );
    try {
      expect(pool.health()).toMatchObject({ healthy: false, reason: 'pool not started' });
      await pool.start();
      expect(pool.health().healthy).toBe(true);
      const attempts = pool.stats().connectAttempts;
      for (let i = 0; i < 5; i++) await pool.ping(2_000);
      expect(pool.stats().connectAttempts).toBe(attempts);
      expect(JSON.stringify(pool.health())).not.toContain('guest');
      await sleep(0);
    } finally {
      await pool.close();
    }
    expect(pool.health()).toMatchObject({ healthy: false, reason: 'pool is closed' });
  });
});

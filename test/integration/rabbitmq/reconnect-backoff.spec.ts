import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import { amqpUrl } from '../../support/broker-env.js';
import { FaultProxy } from '../../support/fault-proxy.js';
import { sleep, testLogger } from './support/rabbitmq-admin.js';

/**
 * A path that accepts connections and drops each one right after it opened (a misbehaving load
 * balancer, an operator closing connections in a loop). The pool reaches the shared broker through
 * a fault proxy of its own, so only the proxy's connections are cut.
 */
describe('RabbitMqPool reconnect backoff when connections keep dropping right after they open (real broker)', () => {
  let proxy: FaultProxy;

  beforeAll(async () => {
    proxy = await FaultProxy.start({ upstreamPort: Number(new URL(amqpUrl()).port || 5672) });
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('backs off instead of reconnecting every initialDelayMs forever', async () => {
    const pool = new RabbitMqPool(
      {
        url: proxy.urlFor(amqpUrl()),
        connections: 2,
        consumerConnections: 0,
        reconnect: { initialDelayMs: 50, maxDelayMs: 1_000 },
      },
      { name: 'flapping', logger: testLogger() },
    );
    let ups = 0;
    let cutting = false;
    pool.on('connectionUp', () => {
      ups++;
      // Drop each connection 20 ms after it opened.
      if (cutting) setTimeout(() => proxy.reset(), 20);
    });
    await pool.start();
    ups = 0;
    cutting = true;
    proxy.reset();
    await sleep(4_000);
    cutting = false;
    const flapUps = ups;
    // Measured: 64 reconnects without backoff growth (failures reset on every open, siblings waking
    // each other: a reconnect per ≤ 50 ms per connection), ~21 with it (the 1 s cap reached fast).
    expect(flapUps).toBeLessThanOrEqual(40);
    expect(flapUps).toBeGreaterThan(2);
    // Once connections stay up, the pool works again.
    await pool.ping(5_000).catch(async () => {
      await sleep(1_500);
      await pool.ping(5_000);
    });
    await pool.close();
    console.log(`[reconnect-backoff] ${flapUps} reconnects in 4 s of drops`);
  });

  it('a connection that opens after its deadline is closed, not left open beside the slot', async () => {
    // Broker → client bytes 500 ms late: the handshake (three broker → client steps) outlives
    // connectTimeoutMs (1 s) and completes at ~1.5-2 s. Nothing cuts the link here, so the proxied
    // connection can only end because the pool closed it; left open, its heartbeats would keep it up.
    // The top of the full-jitter range: the second attempt starts ~5 s after the first failed,
    // after the check below, so the proxy sees only the late connection.
    const { slow, pool } = await poolBehindSlowLink('late-closed', () => 0.99);
    try {
      void pool.start().catch(() => undefined);
      await sleep(3_500);
      expect(slow.stats().accepted).toBe(1);
      expect(slow.stats().bytes.toClient).toBeGreaterThan(0);
      expect(slow.connections).toBe(0);
    } finally {
      await pool.close();
      await slow.close();
    }
  });

  it('a connection that opens after its deadline is discarded safely even when the link dies during its close', async () => {
    // Broker → client bytes 500 ms late: the handshake outlives connectTimeoutMs (1 s), the late
    // connection completes at ~1.5-2 s and is closed; cutting the link then made amqplib emit
    // 'error' ("Unexpected close") on a connection nobody listened to: an uncaught exception.
    for (const cutAtMs of [1_600, 1_750, 1_900]) {
      const { slow, pool } = await poolBehindSlowLink('late');
      void pool.start().catch(() => undefined);
      await sleep(cutAtMs);
      slow.reset();
      await sleep(1_000);
      await pool.close();
      await slow.close();
    }
  });
});

/**
 * A one-connection pool behind a proxy that delays broker → client bytes by 500 ms: its handshake
 * outlives connectTimeoutMs (1 s), so the connection opens late, at ~1.5-2 s.
 */
async function poolBehindSlowLink(
  name: string,
  random?: () => number,
): Promise<{ slow: FaultProxy; pool: RabbitMqPool }> {
  const slow = await FaultProxy.start({ upstreamPort: Number(new URL(amqpUrl()).port || 5672) });
  slow.latency(500, { direction: 'toClient' });
  const pool = new RabbitMqPool(
    {
      url: slow.urlFor(amqpUrl()),
      connections: 1,
      consumerConnections: 0,
      connectTimeoutMs: 1_000,
      reconnect: { initialDelayMs: 5_000, maxDelayMs: 5_000 },
    },
    { name, logger: testLogger(), ...(random ? { random } : {}) },
  );
  return { slow, pool };
}

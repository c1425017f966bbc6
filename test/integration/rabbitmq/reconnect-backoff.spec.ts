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
});

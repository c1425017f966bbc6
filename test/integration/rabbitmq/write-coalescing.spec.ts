import net from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import { amqpUrl } from '../../support/broker-env.js';
import { queueDepth, TestQueues, testLogger, uniqueName } from './support/rabbitmq-admin.js';

/**
 * `coalesceWrites` against the real broker: socket writes are counted at Node's stream layer
 * (`_write` per uncorked write, `_writev` per corked flush) on the sockets to the broker, while
 * only the pool under test is working.
 */
describe('RabbitMqPool write coalescing (real broker)', () => {
  const queues = new TestQueues('coalesce-q');
  let pool: RabbitMqPool | undefined;

  beforeAll(() => queues.open(amqpUrl()));
  afterAll(() => queues.close());
  afterEach(async () => {
    vi.restoreAllMocks();
    await pool?.close();
    pool = undefined;
  });

  async function startPool(coalesceWrites?: boolean): Promise<RabbitMqPool> {
    pool = new RabbitMqPool(
      {
        url: amqpUrl(),
        connectionName: uniqueName('it-coalesce'),
        ...(coalesceWrites === undefined ? {} : { coalesceWrites }),
      },
      { name: 'coalesce', logger: testLogger() },
    );
    await pool.start();
    return pool;
  }

  /** Calls on sockets to the broker only (not, say, a stdout pipe, which is a net.Socket too). */
  function countSocketWrites(): { writes: () => number; writevs: () => number } {
    const brokerPort = Number(new URL(amqpUrl()).port || 5672);
    const proto = net.Socket.prototype as unknown as Record<'_write' | '_writev', () => void>;
    const write = vi.spyOn(proto, '_write');
    const writev = vi.spyOn(proto, '_writev');
    const toBroker = (contexts: unknown[]): number =>
      contexts.filter((socket) => (socket as net.Socket).remotePort === brokerPort).length;
    return {
      writes: () => toBroker(write.mock.contexts),
      writevs: () => toBroker(writev.mock.contexts),
    };
  }

  async function publishAndConsume(p: RabbitMqPool, q: string, n: number): Promise<string[]> {
    await Promise.all(Array.from({ length: n }, (_, i) => p.sendToQueue(q, String(i))));
    const seen: string[] = [];
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    const handle = await p.consume(
      q,
      (msg) => {
        seen.push(msg.content.toString());
        if (seen.length === n) done();
      },
      { prefetch: 200 },
    );
    await all;
    await handle.cancel();
    return seen;
  }

  it('by default, concurrent publishes and their consumer acks leave in far fewer syscalls than frames, in order', async () => {
    const p = await startPool();
    const q = await queues.fresh();
    const n = 1_200; // within maxInFlightPerChannel (512) + maxWaiting (1,000)
    const count = countSocketWrites();
    const seen = await publishAndConsume(p, q, n);
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => String(i)));
    expect(await queueDepth(queues.admin, q)).toBe(0); // every ack reached the broker
    // 1,200 publishes + 1,200 acks as separate writes would be ≥ 2,400 calls.
    expect(count.writevs()).toBeGreaterThan(0);
    expect(count.writes() + count.writevs()).toBeLessThan(n);
  });

  it('coalesceWrites: false writes frame by frame, as amqplib does', async () => {
    const p = await startPool(false);
    const q = await queues.fresh();
    const n = 500;
    const count = countSocketWrites();
    const seen = await publishAndConsume(p, q, n);
    expect(seen).toHaveLength(n);
    expect(count.writevs()).toBe(0);
    expect(count.writes()).toBeGreaterThanOrEqual(n);
  });
});

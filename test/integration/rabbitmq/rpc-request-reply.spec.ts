import type { ChannelModel } from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  NOOP_RABBITMQ_METRICS,
  RabbitMqPool,
  RpcRemoteError,
  RpcTimeoutError,
  UnroutableMessageError,
  type RabbitMqMetricsRecorder,
  type RpcErrorReason,
} from '../../../lib/rabbitmq/index.js';
import { PoolClosedError, PoolExhaustedError } from '../../../lib/core/errors/index.js';
import { amqpUrl } from '../../support/broker-env.js';
import {
  adminConnection,
  eventually,
  sleep,
  testLogger,
  uniqueName,
} from './support/rabbitmq-admin.js';

/** A recorder that keeps what the RPC methods were told. */
function rpcMetrics(): RabbitMqMetricsRecorder & {
  errors: RpcErrorReason[];
  late: number;
  replies: number;
  served: Array<[string, 'ok' | 'error']>;
} {
  const m = {
    ...NOOP_RABBITMQ_METRICS,
    errors: [] as RpcErrorReason[],
    late: 0,
    replies: 0,
    served: [] as Array<[string, 'ok' | 'error']>,
    rpcReplySeconds: () => void m.replies++,
    rpcRequestError: (reason: RpcErrorReason) => void m.errors.push(reason),
    rpcLateReply: () => void m.late++,
    rpcServed: (queue: string, outcome: 'ok' | 'error') => void m.served.push([queue, outcome]),
  };
  return m;
}

/**
 * request() over direct reply-to and serveRpc() on the real broker. Every test uses its own exchange,
 * queues and pools (unique names), deleted at the end.
 */
describe('RabbitMQ RPC: request() and serveRpc() (real broker)', () => {
  let admin: ChannelModel;
  let exchange: string;
  const queues: string[] = [];
  const pools: RabbitMqPool[] = [];

  const newPool = (
    extra: Record<string, unknown> = {},
    metrics?: RabbitMqMetricsRecorder,
  ): RabbitMqPool => {
    const pool = new RabbitMqPool(
      { url: amqpUrl(), connectionName: uniqueName('it-rpc'), ...extra },
      { name: 'rpc', logger: testLogger(), ...(metrics ? { metrics } : {}) },
    );
    pools.push(pool);
    return pool;
  };
  const queueName = (): string => {
    const q = uniqueName('it-rpc-q');
    queues.push(q);
    return q;
  };

  beforeAll(async () => {
    admin = await adminConnection(amqpUrl());
    exchange = uniqueName('it-rpc-x');
    const ch = await admin.createChannel();
    await ch.assertExchange(exchange, 'direct', { durable: false });
    await ch.close();
  });
  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.close()));
  });
  afterAll(async () => {
    const ch = await admin.createChannel();
    for (const q of queues) await ch.deleteQueue(q).catch(() => undefined);
    await ch.deleteExchange(exchange).catch(() => undefined);
    await admin.close();
  });

  it('round trip: the JSON payload reaches the handler, its return value comes back', async () => {
    const metrics = rpcMetrics();
    const pool = newPool({}, metrics);
    const queue = queueName();
    const seen: unknown[] = [];
    const server = await pool.serveRpc<{ id: number }, { id: number; total: number }>(
      { queue, exchange, routingKey: 'orders.get' },
      async (payload, message) => {
        seen.push({ payload, attempt: message.attempt, tenant: message.headers['x-tenant'] });
        return { id: payload.id, total: 42.5 };
      },
    );
    expect(server).toMatchObject({ queue, active: true });
    const reply = await pool.request<{ id: number; total: number }>(
      exchange,
      'orders.get',
      { id: 7 },
      { headers: { 'x-tenant': 'acme' } },
    );
    expect(reply).toEqual({ id: 7, total: 42.5 });
    expect(seen).toEqual([{ payload: { id: 7 }, attempt: 1, tenant: 'acme' }]);
    // Through the default exchange to the queue as well; a handler returning nothing replies null.
    const none = await pool.serveRpc({ queue: queueName() }, async () => undefined);
    expect(await pool.request('', none.queue, 'ping')).toBeNull();
    expect(metrics.replies).toBe(2);
    expect(metrics.served).toEqual([
      [queue, 'ok'],
      [none.queue, 'ok'],
    ]);
    expect(pool.stats().rpc).toEqual({ outstanding: 0, timeouts: 0, lateReplies: 0 });
    await server.cancel();
    expect(server.active).toBe(false);
  });

  it("a handler's error reaches the caller as RpcRemoteError with its message and code, never its stack or other fields", async () => {
    const metrics = rpcMetrics();
    const pool = newPool({}, metrics);
    const queue = queueName();
    await pool.serveRpc({ queue }, async (payload: { kind: string }) => {
      if (payload.kind === 'plain') throw new Error('just failed');
      if (payload.kind === 'string') throw 'a string, not an Error';
      throw Object.assign(new Error('order 7 not found'), {
        code: 'ORDER_NOT_FOUND',
        secret: 'db-password-123',
      });
    });
    const coded = await pool.request('', queue, { kind: 'coded' }).catch((e: unknown) => e);
    expect(coded).toBeInstanceOf(RpcRemoteError);
    expect(coded).toMatchObject({
      code: 'MQ_RPC_REMOTE_ERROR',
      remoteMessage: 'order 7 not found',
      remoteCode: 'ORDER_NOT_FOUND',
    });
    const everything = JSON.stringify(coded, Object.getOwnPropertyNames(coded));
    expect(everything).not.toContain('db-password-123');
    // The only stack is the caller's own: nothing of the server's frames crosses the wire.
    expect((coded as Error).stack).not.toContain('rpc-request-reply.spec.ts:1');
    expect(everything).not.toMatch(/at .*serveRpc|rpc-server/);

    const plain = await pool.request('', queue, { kind: 'plain' }).catch((e: unknown) => e);
    expect(plain).toMatchObject({ remoteMessage: 'just failed', remoteCode: undefined });
    const nonError = await pool.request('', queue, { kind: 'string' }).catch((e: unknown) => e);
    expect(nonError).toMatchObject({ remoteMessage: 'RPC handler failed' });
    expect(metrics.errors).toEqual(['remote', 'remote', 'remote']);
    expect(metrics.served.map(([, outcome]) => outcome)).toEqual(['error', 'error', 'error']);
  });

  it('no server: RpcTimeoutError at the deadline; a reply after it is dropped and counted', async () => {
    const metrics = rpcMetrics();
    const pool = newPool({ rpc: { timeoutMs: 300 } }, metrics);
    // A queue bound for the route that nobody consumes.
    const idle = queueName();
    const ch = await admin.createChannel();
    await ch.assertQueue(idle, { durable: false });
    await ch.bindQueue(idle, exchange, 'nobody');
    await ch.close();
    const startedAt = Date.now();
    const timedOut = await pool.request(exchange, 'nobody', { q: 1 }).catch((e: unknown) => e);
    const tookMs = Date.now() - startedAt;
    expect(timedOut).toBeInstanceOf(RpcTimeoutError);
    expect(timedOut).toMatchObject({
      code: 'MQ_RPC_TIMEOUT',
      timeoutMs: 300,
      routingKey: 'nobody',
    });
    expect(tookMs).toBeGreaterThanOrEqual(290);
    expect(tookMs).toBeLessThan(2_000);

    // A server that answers after the caller's deadline.
    const slow = queueName();
    await pool.serveRpc({ queue: slow }, async () => {
      await sleep(700);
      return 'too late';
    });
    const late = await pool.request('', slow, {}, { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(RpcTimeoutError);
    expect(await eventually(() => pool.stats().rpc.lateReplies === 1, 3_000)).toBe(true);
    expect(metrics.late).toBe(1);
    expect(metrics.errors).toEqual(['timeout', 'timeout']);
    expect(pool.stats().rpc).toEqual({ outstanding: 0, timeouts: 2, lateReplies: 1 });
  });

  it('a request no queue is bound for fails fast with UnroutableMessageError', async () => {
    const metrics = rpcMetrics();
    const pool = newPool({ rpc: { timeoutMs: 10_000 } }, metrics);
    const startedAt = Date.now();
    const error = await pool.request(exchange, 'no-binding', {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnroutableMessageError);
    expect(error).toMatchObject({ exchange, routingKey: 'no-binding', replyCode: 312 });
    expect(Date.now() - startedAt).toBeLessThan(2_000);
    expect(metrics.errors).toEqual(['unroutable']);
    // The reply channel is still usable.
    const queue = queueName();
    await pool.serveRpc({ queue }, async () => 'ok');
    await expect(pool.request('', queue, null)).resolves.toBe('ok');
  });

  it('a request to a missing exchange fails with PublishFailedError; the next request gets a new reply channel', async () => {
    const metrics = rpcMetrics();
    const pool = newPool({}, metrics);
    const queue = queueName();
    await pool.serveRpc({ queue }, async (n: number) => n);
    const error = await pool
      .request(uniqueName('it-rpc-missing-x'), 'k', {}, { timeoutMs: 10_000 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MQ_POOL_PUBLISH_FAILED', replyCode: 404 });
    expect(metrics.errors).toEqual(['channel_error']);
    // A fractional timeout is a valid deadline (the expiration sent is rounded up).
    await expect(pool.request('', queue, 5, { timeoutMs: 2_000.5 })).resolves.toBe(5);
  });

  it('beyond rpc.maxOutstanding a request fails at once with PoolExhaustedError', async () => {
    const metrics = rpcMetrics();
    const pool = newPool({ rpc: { maxOutstanding: 2, timeoutMs: 800 } }, metrics);
    const idle = queueName();
    const ch = await admin.createChannel();
    await ch.assertQueue(idle, { durable: false });
    await ch.close();
    const first = pool.request('', idle, 1).catch((e: unknown) => e);
    const second = pool.request('', idle, 2).catch((e: unknown) => e);
    const third = await pool.request('', idle, 3).catch((e: unknown) => e);
    expect(third).toBeInstanceOf(PoolExhaustedError);
    expect(third).toMatchObject({ reason: 'maxOutstanding' });
    expect((third as Error).message).toContain('rabbitmq.rpc.maxOutstanding');
    expect(pool.stats().rpc.outstanding).toBe(2);
    expect(await first).toBeInstanceOf(RpcTimeoutError);
    expect(await second).toBeInstanceOf(RpcTimeoutError);
    // Room again once they settled.
    const again = await pool.request('', idle, 4, { timeoutMs: 100 }).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(RpcTimeoutError);
    expect(metrics.errors.sort()).toEqual(['exhausted', 'timeout', 'timeout', 'timeout']);
  });

  it('200 concurrent requests are each answered with their own reply', async () => {
    const pool = newPool();
    const server = newPool();
    const queue = queueName();
    await server.serveRpc({ queue, prefetch: 50 }, async (payload: { i: number }) => {
      // Replies come back out of order.
      await sleep(Math.floor(Math.random() * 20));
      return { i: payload.i, square: payload.i * payload.i };
    });
    const replies = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        pool.request<{ i: number; square: number }>('', queue, { i }),
      ),
    );
    replies.forEach((reply, i) => expect(reply).toEqual({ i, square: i * i }));
    expect(pool.stats().rpc).toEqual({ outstanding: 0, timeouts: 0, lateReplies: 0 });
  });

  it('a request without replyTo is handled and acked; no reply is sent', async () => {
    const pool = newPool();
    const queue = queueName();
    let handled = 0;
    const server = await pool.serveRpc({ queue }, async () => {
      handled++;
      return 'unread';
    });
    await pool.sendToQueue(queue, { fire: 'and forget' });
    expect(await eventually(() => handled === 1 && server.inFlight === 0, 5_000)).toBe(true);
    const ch = await admin.createChannel();
    expect((await ch.checkQueue(queue)).messageCount).toBe(0);
    await ch.close();
  });

  it('drain: a request already sent still gets its reply; a request after the drain began fails with PoolClosedError', async () => {
    const client = newPool();
    const server = newPool();
    const queue = queueName();
    await server.serveRpc({ queue }, async () => {
      await sleep(300);
      return 'answered';
    });
    const inFlight = client.request('', queue, {});
    await sleep(50);
    const drained = client.drain(5_000);
    await expect(client.request('', queue, {})).rejects.toBeInstanceOf(PoolClosedError);
    await expect(inFlight).resolves.toBe('answered');
    const report = await drained;
    expect(report).toMatchObject({ requestsAtDeadline: 0, timedOut: false });
    await expect(client.request('', queue, {})).rejects.toMatchObject({
      code: 'MQ_POOL_CLOSED',
      state: 'closed',
    });
  });

  it('serveRpc declares and binds its queue, and rejects bad options before declaring anything', async () => {
    const pool = newPool();
    const queue = queueName();
    await pool.serveRpc(
      { queue, exchange, routingKey: ['a.key', 'b.key'], queueOptions: { durable: false } },
      async (p) => p,
    );
    await expect(pool.request(exchange, 'b.key', 'echo')).resolves.toBe('echo');
    await expect(
      pool.serveRpc({ queue: 'rpc.no-exchange', routingKey: 'x' }, async () => 1),
    ).rejects.toMatchObject({
      code: 'MQ_POOL_INVALID_OPTIONS',
      key: 'serveRpc(rpc.no-exchange).routingKey',
    });
    await expect(
      pool.serveRpc({ queue: 'rpc.bad-prefetch', prefetch: 0 }, async () => 1),
    ).rejects.toMatchObject({ key: 'serveRpc(rpc.bad-prefetch).prefetch' });
    // A queue that exists with other properties: TopologyMismatchError, not a consumer on the wrong queue.
    await expect(
      pool.serveRpc({ queue, queueOptions: { durable: true } }, async () => 1),
    ).rejects.toMatchObject({ code: 'MQ_TOPOLOGY_MISMATCH' });
  });
});

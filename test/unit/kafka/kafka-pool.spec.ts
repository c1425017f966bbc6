import { afterEach, describe, expect, it, vi } from 'vitest';
import { PoolClosedError } from '../../../lib/core/errors/pool-closed.error.js';
import type { MqLogger } from '../../../lib/core/logger.js';
import {
  BrokerUnreachableError,
  ConsumerFailedError,
  ConsumerJoinTimeoutError,
  KafkaPool,
  type KafkaPoolOptions,
  ProducerFencedError,
  SendFailedError,
  SendTimeoutError,
  TransactionEndedError,
  TransactionFailedError,
  TransactionsNotConfiguredError,
  type KafkaTransaction,
} from '../../../lib/kafka/index.js';
import { FakeKafka, kindError, metadata } from './fake-kafka-driver.js';

const SECRET = 'pa55-w0rd-never-logged';
const pools: KafkaPool[] = [];

function recordingLogger(): MqLogger & { text(): string } {
  const lines: unknown[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => {
    lines.push({ level, message, fields: fields ? safe(fields) : undefined });
  };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    text: () => JSON.stringify(lines),
  };
}
function safe(fields: Record<string, unknown>): unknown {
  return JSON.parse(
    JSON.stringify(fields, (_k, v: unknown) =>
      v instanceof Error ? `${v.name}: ${v.message}` : v,
    ),
  );
}

function makePool(extra: Partial<KafkaPoolOptions> = {}, fake = new FakeKafka()) {
  const logger = recordingLogger();
  const pool = new KafkaPool(
    {
      brokers: ['b:9092'],
      sendTimeoutMs: 200,
      startTimeoutMs: 200,
      reconnect: { initialDelayMs: 5, maxDelayMs: 20 },
      ...extra,
    },
    { name: 'unit', driver: fake.factory, logger },
  );
  pools.push(pool);
  return { pool, fake, logger };
}

const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('KafkaPool: send()', () => {
  it('sends every record on ONE shared idempotent producer, passing the record through', async () => {
    const { pool, fake } = makePool();
    await pool.start();
    const record = { topic: 't', messages: [{ value: 'v' }], acks: -1 };
    await Promise.all(Array.from({ length: 20 }, () => pool.send(record)));
    expect(fake.sharedProducers).toHaveLength(1);
    expect(fake.sharedProducers[0]?.config.idempotent).toBe(true);
    expect(fake.sharedProducers[0]?.sends[0]).toBe(record);
    expect(pool.stats().producer).toMatchObject({
      state: 'connected',
      sent: 20,
      failed: 0,
      inFlight: 0,
    });
  });

  it('connects lazily when send() comes before start()', async () => {
    const { pool, fake } = makePool();
    await expect(pool.send({ topic: 't', messages: [{ value: 'v' }] })).resolves.toEqual(
      metadata('t'),
    );
    expect(fake.sharedProducers).toHaveLength(1);
  });

  it('fails a send that outlives sendTimeoutMs with SendTimeoutError, and its late failure is never unhandled', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    const { pool, fake } = makePool();
    await pool.start();
    let fail!: (e: Error) => void;
    fake.sendImpl = () => new Promise((_, reject) => (fail = reject));
    const error = await pool
      .send({ topic: 'slow', messages: [{ value: 'v' }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SendTimeoutError);
    expect((error as SendTimeoutError).code).toBe('MQ_KAFKA_SEND_TIMEOUT');
    expect((error as Error).message).toMatch(/outcome unknown/);
    fail(kindError('connection'));
    await tick(10);
    process.off('unhandledRejection', unhandled);
    expect(unhandled).not.toHaveBeenCalled();
    expect(pool.stats().producer.inFlight).toBe(0);
  });

  it('types client failures (SendFailedError with a reason) and keeps secrets out of the message', async () => {
    const { pool, fake, logger } = makePool({
      sasl: { mechanism: 'plain', username: 'u', password: SECRET },
    });
    await pool.start();
    fake.sendImpl = async () => {
      throw kindError('rejected', `MESSAGE_TOO_LARGE (login ${SECRET})`);
    };
    const error = (await pool
      .send({ topic: 't', messages: [{ value: 'v' }] })
      .catch((e: unknown) => e)) as SendFailedError;
    expect(error).toBeInstanceOf(SendFailedError);
    expect(error.reason).toBe('rejected');
    expect(error.message).not.toContain(SECRET);
    expect(JSON.stringify(pool.health())).not.toContain(SECRET);
    expect(logger.text()).not.toContain(SECRET);
    expect(fake.config?.secrets).toContain(SECRET);
  });

  it('replaces the shared producer after a producer-state error (new producer id), and later sends work', async () => {
    const { pool, fake } = makePool();
    const replaced = vi.fn();
    pool.on('producerReplaced', replaced);
    await pool.start();
    fake.sendImpl = async () => {
      throw kindError('producer-state', 'OUT_OF_ORDER_SEQUENCE_NUMBER');
    };
    await expect(pool.send({ topic: 't', messages: [{ value: 'v' }] })).rejects.toBeInstanceOf(
      SendFailedError,
    );
    fake.sendImpl = async (r) => metadata(r.topic);
    await expect(pool.send({ topic: 't', messages: [{ value: 'v' }] })).resolves.toBeDefined();
    expect(fake.sharedProducers).toHaveLength(2);
    expect(fake.sharedProducers[0]?.disconnected).toBe(true);
    expect(replaced).toHaveBeenCalledWith(expect.objectContaining({ transactionalId: null }));
  });
});

describe('KafkaPool: no send after an ambiguous failure on the same idempotent producer', () => {
  // kafkajs rolls an idempotent partition sequence back when a produce request fails in flight; if
  // the broker had written that batch, the next batch reuses its sequence and is acked as its
  // duplicate without being written. The producer (its id) must be replaced first.
  it.each(['connection', 'timeout', 'unknown'] as const)(
    'a %s failure replaces the producer before the next send',
    async (kind) => {
      const { pool, fake } = makePool();
      await pool.start();
      fake.sendImpl = async () => {
        throw kindError(kind);
      };
      await expect(pool.send({ topic: 't', messages: [{ value: 'a' }] })).rejects.toThrow();
      fake.sendImpl = async (r) => metadata(r.topic);
      await pool.send({ topic: 't', messages: [{ value: 'b' }] });
      expect(fake.sharedProducers).toHaveLength(2);
      expect(fake.sharedProducers[0]?.sends).toHaveLength(1);
      expect(fake.sharedProducers[1]?.sends).toHaveLength(1);
    },
  );

  it('a definite refusal (rejected) keeps the producer', async () => {
    const { pool, fake } = makePool();
    await pool.start();
    fake.sendImpl = async () => {
      throw kindError('rejected', 'MESSAGE_TOO_LARGE');
    };
    await expect(pool.send({ topic: 't', messages: [{ value: 'a' }] })).rejects.toThrow();
    fake.sendImpl = async (r) => metadata(r.topic);
    await pool.send({ topic: 't', messages: [{ value: 'b' }] });
    expect(fake.sharedProducers).toHaveLength(1);
  });
});

describe('KafkaPool: start()', () => {
  it('rejects with BrokerUnreachableError at startTimeoutMs, keeps retrying, and sends work once a broker answers', async () => {
    const fake = new FakeKafka();
    let failures = 0;
    let up = false;
    fake.connectImpl = async () => {
      if (!up) {
        failures++;
        throw kindError('connection', 'ECONNREFUSED');
      }
    };
    const { pool } = makePool({}, fake);
    const error = await pool.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerUnreachableError);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    expect(failures).toBeGreaterThan(2);
    expect(pool.health()).toMatchObject({ healthy: false, reason: 'producer connecting' });
    up = true;
    await expect(pool.send({ topic: 't', messages: [{ value: 'v' }] })).resolves.toBeDefined();
    expect(pool.health().healthy).toBe(true);
  });
});

describe('KafkaPool: withTransaction()', () => {
  const tx = { transactionalIdPrefix: 'svc-0', maxProducers: 4 };

  it('fails clearly when transactions are not configured', async () => {
    const { pool } = makePool();
    await expect(pool.withTransaction(async () => 1)).rejects.toBeInstanceOf(
      TransactionsNotConfiguredError,
    );
  });

  it('commits when the callback resolves and returns its value', async () => {
    const { pool, fake } = makePool({ transactions: tx });
    const result = await pool.withTransaction(async (t) => {
      await t.send({ topic: 'out', messages: [{ value: 'a' }] });
      return t.transactionalId;
    });
    expect(result).toBe('svc-0-0');
    const [producer] = fake.txProducers;
    expect(producer?.config).toMatchObject({ transactionalId: 'svc-0-0', idempotent: true });
    // transactions[0] is the empty warm-up that initializes the id (fencing a predecessor).
    expect(producer?.transactions.map((t) => t.state)).toEqual(['aborted', 'committed']);
  });

  it('aborts when the callback throws and rethrows the same error; the producer is reused', async () => {
    const { pool, fake } = makePool({ transactions: tx });
    const boom = new Error('business rule');
    await expect(
      pool.withTransaction(async (t) => {
        await t.send({ topic: 'out', messages: [{ value: 'a' }] });
        throw boom;
      }),
    ).rejects.toBe(boom);
    await pool.withTransaction(async () => undefined);
    expect(fake.txProducers).toHaveLength(1);
    expect(fake.txProducers[0]?.transactions.map((t) => t.state)).toEqual([
      'aborted',
      'aborted',
      'committed',
    ]);
  });

  it('20 concurrent transactions on a pool of 4 never share a producer and all complete', async () => {
    const { pool, fake } = makePool({ transactions: tx });
    const active = new Set<string>();
    let maxActive = 0;
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        pool.withTransaction(async (t: KafkaTransaction) => {
          expect(active.has(t.transactionalId)).toBe(false);
          active.add(t.transactionalId);
          maxActive = Math.max(maxActive, active.size);
          await tick(2);
          await t.send({ topic: 'out', messages: [{ value: String(i) }] });
          active.delete(t.transactionalId);
          return i;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(maxActive).toBeLessThanOrEqual(4);
    expect(fake.txProducers.map((p) => p.config.transactionalId).sort()).toEqual([
      'svc-0-0',
      'svc-0-1',
      'svc-0-2',
      'svc-0-3',
    ]);
  });

  it('a fenced commit throws ProducerFencedError, destroys the producer and reuses its slot id', async () => {
    const { pool, fake } = makePool({ transactions: tx });
    const replaced = vi.fn();
    pool.on('producerReplaced', replaced);
    fake.commitImpl = async (t) => {
      if (t.sent.length > 0) throw kindError('fenced', 'INVALID_PRODUCER_EPOCH');
    };
    const error = await pool
      .withTransaction((t) => t.send({ topic: 'out', messages: [{ value: 'a' }] }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProducerFencedError);
    expect((error as ProducerFencedError).transactionalId).toBe('svc-0-0');
    expect(fake.txProducers[0]?.disconnected).toBe(true);
    expect(replaced).toHaveBeenCalledWith(expect.objectContaining({ transactionalId: 'svc-0-0' }));
    fake.commitImpl = async () => undefined;
    await pool.withTransaction(async () => undefined);
    expect(fake.txProducers.map((p) => p.config.transactionalId)).toEqual(['svc-0-0', 'svc-0-0']);
  });

  it('a failed commit of another kind is a TransactionFailedError(commit) and the producer is replaced', async () => {
    const { pool, fake } = makePool({ transactions: tx });
    fake.commitImpl = async (t) => {
      if (t.sent.length > 0) throw kindError('connection');
    };
    const error = await pool
      .withTransaction((t) => t.send({ topic: 'out', messages: [{ value: 'a' }] }))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionFailedError);
    expect((error as TransactionFailedError).phase).toBe('commit');
    expect(fake.txProducers[0]?.disconnected).toBe(true);
  });

  it('a send fenced inside the callback surfaces as ProducerFencedError and the producer is not reused', async () => {
    const { pool, fake } = makePool({ transactions: tx });
    fake.txSendImpl = async () => {
      throw kindError('fenced');
    };
    await expect(
      pool.withTransaction((t) => t.send({ topic: 'o', messages: [{ value: 'a' }] })),
    ).rejects.toBeInstanceOf(ProducerFencedError);
    fake.txSendImpl = async () => undefined;
    await pool.withTransaction((t) => t.send({ topic: 'o', messages: [{ value: 'a' }] }));
    expect(fake.txProducers).toHaveLength(2);
    expect(fake.txProducers[0]?.disconnected).toBe(true);
  });

  it('refuses use of the transaction object after the callback settled', async () => {
    const { pool } = makePool({ transactions: tx });
    let leaked: KafkaTransaction | undefined;
    await pool.withTransaction(async (t) => {
      leaked = t;
    });
    await expect(leaked!.send({ topic: 'o', messages: [{ value: 'a' }] })).rejects.toBeInstanceOf(
      TransactionEndedError,
    );
  });
});

describe('KafkaPool: consume()', () => {
  const restart = { initialDelayMs: 1, maxDelayMs: 5, maxRestarts: 2, windowMs: 60_000 };

  it('resolves once the group is joined and counts handler outcomes', async () => {
    const { pool, fake } = makePool();
    await pool.start();
    const seen: string[] = [];
    const handle = await pool.consume({
      groupId: 'g',
      topics: ['t'],
      eachMessage: async ({ message }) => {
        if (message.value?.toString() === 'bad') throw new Error('poison');
        seen.push(message.value!.toString());
      },
    });
    expect(handle.state).toBe('running');
    const c = fake.consumers[0]!;
    expect(c.config).toMatchObject({ groupId: 'g', readUncommitted: false });
    await c.deliver('a');
    await expect(c.deliver('bad')).rejects.toThrow('poison');
    expect(seen).toEqual(['a']);
    expect(handle.stats()).toMatchObject({ processed: 1, failed: 1, inFlight: 0, joins: 1 });
  });

  it('restarts a crashed consumer on a fresh client consumer, then gives up after maxRestarts in the window', async () => {
    const { pool, fake } = makePool();
    await pool.start();
    const crashes = vi.fn();
    const failed = vi.fn();
    pool.on('consumerCrash', crashes).on('consumerFailed', failed);
    const handle = await pool.consume({
      groupId: 'g',
      topics: ['t'],
      eachMessage: async () => undefined,
      restart,
    });
    fake.consumers[0]!.crash(new Error('crash 1'));
    await vi.waitFor(() => expect(fake.consumers).toHaveLength(2));
    await vi.waitFor(() => expect(handle.state).toBe('running'));
    fake.consumers[1]!.crash(new Error('crash 2'));
    await vi.waitFor(() => expect(fake.consumers).toHaveLength(3));
    await vi.waitFor(() => expect(handle.state).toBe('running'));
    fake.consumers[2]!.crash(new Error('crash 3'));
    expect(handle.state).toBe('failed');
    expect(crashes).toHaveBeenCalledTimes(2);
    expect(failed).toHaveBeenCalledTimes(1);
    expect(failed.mock.calls[0]?.[0].error).toBeInstanceOf(ConsumerFailedError);
    expect(handle.stats()).toMatchObject({ crashes: 3, restarts: 2 });
    expect(pool.health()).toMatchObject({ healthy: false, reason: 'consumer crash loop: g' });
    await tick(20);
    expect(fake.consumers).toHaveLength(3); // no silent restart loop
  });

  it('keeps restarting through a broker outage (connection crashes do not count toward the crash-loop limit)', async () => {
    const { pool, fake } = makePool();
    const handle = await pool.consume({
      groupId: 'g',
      topics: ['t'],
      eachMessage: async () => undefined,
      restart,
    });
    fake.autoJoin = false;
    for (let i = 0; i < 5; i++) {
      fake.consumers.at(-1)!.crash(kindError('connection', 'ECONNREFUSED'));
      await vi.waitFor(() => expect(fake.consumers).toHaveLength(i + 2));
    }
    expect(handle.state).toBe('starting');
    fake.consumers.at(-1)!.join();
    expect(handle.state).toBe('running');
    expect(handle.stats()).toMatchObject({ crashes: 5, restarts: 5 });
  });

  it('ignores a late crash from a replaced client consumer', async () => {
    const { pool, fake } = makePool();
    const handle = await pool.consume({
      groupId: 'g',
      topics: ['t'],
      eachMessage: async () => undefined,
      restart,
    });
    fake.consumers[0]!.crash(new Error('crash'));
    await vi.waitFor(() => expect(handle.state).toBe('running'));
    fake.consumers[0]!.crash(new Error('late echo'));
    expect(handle.stats().crashes).toBe(1);
  });

  it('rejects with ConsumerJoinTimeoutError when the group is not joined in time, leaving nothing running', async () => {
    const fake = new FakeKafka();
    fake.autoJoin = false;
    const { pool } = makePool({}, fake);
    const error = await pool
      .consume({
        groupId: 'g',
        topics: ['t'],
        eachMessage: async () => undefined,
        joinTimeoutMs: 20,
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConsumerJoinTimeoutError);
    expect(fake.consumers[0]?.disconnected).toBe(true);
    expect(pool.stats().consumers).toHaveLength(0);
  });

  it('validates consume options with kafka.consume.* keys', async () => {
    const { pool } = makePool();
    await expect(pool.consume({ groupId: 'g', topics: [] } as never)).rejects.toMatchObject({
      key: 'kafka.consume.topics',
    });
    await expect(
      pool.consume({
        groupId: 'g',
        topics: ['t'],
        eachMessage: async () => undefined,
        eachBatch: async () => undefined,
      }),
    ).rejects.toMatchObject({ key: 'kafka.consume.eachMessage' });
  });
});

describe('KafkaPool: drain(), health(), ping()', () => {
  it('stops consumers first (their in-flight handlers may still send), then refuses sends, then disconnects', async () => {
    const { pool, fake } = makePool({ transactions: { transactionalIdPrefix: 'p' } });
    await pool.start();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const handlerResults: unknown[] = [];
    await pool.consume({
      groupId: 'g',
      topics: ['t'],
      eachMessage: async () => {
        await gate;
        handlerResults.push(await pool.send({ topic: 'from-handler', messages: [{ value: 'x' }] }));
        handlerResults.push(await pool.withTransaction(async () => 'tx-in-handler'));
      },
    });
    const delivered = fake.consumers[0]!.deliver('m');
    await tick(1);
    const drained = pool.drain(2_000);
    await tick(1);
    expect(pool.health()).toMatchObject({ healthy: false, reason: 'draining' });
    await expect(
      pool.send({ topic: 'outside', messages: [{ value: 'x' }] }),
    ).rejects.toBeInstanceOf(PoolClosedError);
    release();
    await delivered;
    const report = await drained;
    expect(handlerResults).toHaveLength(2);
    expect(handlerResults[1]).toBe('tx-in-handler');
    expect(report).toMatchObject({
      timedOut: false,
      sendsInFlightAtDeadline: 0,
      consumers: [{ groupId: 'g', timedOut: false }],
    });
    expect(fake.consumers[0]?.disconnected).toBe(true);
    expect(fake.sharedProducers[0]?.disconnected).toBe(true);
    expect(pool.stats().closed).toBe(true);
    await expect(pool.send({ topic: 'after', messages: [{ value: 'x' }] })).rejects.toBeInstanceOf(
      PoolClosedError,
    );
    expect(await pool.drain(10)).toBe(report);
  });

  it('reports a handler stuck past the deadline instead of hanging', async () => {
    const { pool, fake } = makePool();
    await pool.start();
    await pool.consume({
      groupId: 'g',
      topics: ['t'],
      eachMessage: () => new Promise<void>(() => undefined),
    });
    void fake.consumers[0]!.deliver('stuck');
    const start = Date.now();
    const report = await pool.drain(50);
    expect(Date.now() - start).toBeLessThan(500);
    expect(report.timedOut).toBe(true);
    expect(report.consumers[0]).toMatchObject({ timedOut: true, inFlightAtDeadline: 1 });
  });

  it('health is derived from state: not started → healthy → draining', async () => {
    const { pool } = makePool();
    expect(pool.health()).toMatchObject({ healthy: false, reason: 'not started' });
    await pool.start();
    expect(pool.health()).toMatchObject({
      healthy: true,
      details: { pool: 'unit', driver: 'fake' },
    });
    await pool.drain(100);
    expect(pool.health()).toMatchObject({ healthy: false, reason: 'drained' });
  });

  it('a failed send marks the pool unhealthy until a send or a ping succeeds again', async () => {
    const { pool, fake } = makePool();
    await pool.start();
    fake.sendImpl = async () => {
      throw kindError('connection', 'ECONNREFUSED');
    };
    await expect(pool.send({ topic: 't', messages: [{ value: 'v' }] })).rejects.toBeInstanceOf(
      SendFailedError,
    );
    expect(pool.health()).toMatchObject({
      healthy: false,
      reason: expect.stringMatching(/^last send failed \(connection\)/),
    });
    await tick(2);
    await pool.ping(100);
    expect(pool.health().healthy).toBe(true);
  });

  it('pings through ONE admin client, bounded by the timeout', async () => {
    const { pool, fake } = makePool();
    await pool.ping(100);
    await pool.ping(100);
    expect(fake.admins).toHaveLength(1);
    expect(fake.admins[0]).toMatchObject({ connects: 1, describes: 2 });
    expect(pool.health().details.lastPing).toMatchObject({ ok: true, brokers: 1 });
    fake.describeImpl = () => new Promise(() => undefined);
    const error = await pool.ping(20).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BrokerUnreachableError);
    expect(pool.health().details.lastPing).toMatchObject({ ok: false });
    expect(fake.admins).toHaveLength(1);
  });
});

describe('KafkaPool: per-call durations', () => {
  it('ping() and drain() reject a duration Node would fire after 1 ms (NaN, negative, > 2147483647), naming the argument', async () => {
    const { pool } = makePool();
    for (const bad of [Number.NaN, -1, 0, 2_147_483_648]) {
      await expect(pool.ping(bad)).rejects.toMatchObject({
        code: 'MQ_POOL_INVALID_OPTIONS',
        key: 'timeoutMs',
      });
    }
    for (const bad of [Number.NaN, -1, 2_147_483_648, '100' as unknown as number]) {
      await expect(pool.drain(bad)).rejects.toMatchObject({
        code: 'MQ_POOL_INVALID_OPTIONS',
        key: 'deadlineMs',
      });
    }
    // The refused drain did not start one: a valid drain still runs.
    const report = await pool.drain(0);
    expect(report).toBeDefined();
  });
});

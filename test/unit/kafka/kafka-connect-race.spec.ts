import { afterEach, describe, expect, it } from 'vitest';
import {
  ConsumerJoinTimeoutError,
  type DriverAdmin,
  type DriverConsumer,
  type DriverConsumerListeners,
  type KafkaClusterDescription,
  type KafkaDriver,
  KafkaPool,
} from '../../../lib/kafka/index.js';
import { FakeKafka } from './fake-kafka-driver.js';

/**
 * Stops and closes racing a client's connect / run / metadata request. The fake models what
 * kafkajs does (seen against a real broker): a `connect()` in flight completes and opens its
 * connection even when `disconnect()` was called meanwhile; a `run()` whose join outlives a
 * disconnect reconnects; a metadata request retried after a disconnect reconnects. `open` counts
 * the connections left, which is what keeps a process alive after `close()`.
 */

class Gate {
  readonly promise: Promise<void>;
  open!: () => void;
  constructor() {
    this.promise = new Promise((resolve) => (this.open = resolve));
  }
}

class Network {
  open = 0;
}

class RaceClient implements DriverConsumer, DriverAdmin {
  private connected = false;
  running = false;
  disconnects = 0;
  disconnectsWhileRunStarting = 0;
  connectGate: Gate | undefined;
  runGate: Gate | undefined;
  describeGate: Gate | undefined;
  constructor(
    private readonly net: Network,
    private readonly listeners?: DriverConsumerListeners,
  ) {}
  private reopen(): void {
    if (!this.connected) {
      this.connected = true;
      this.net.open++;
    }
  }
  async connect(): Promise<void> {
    await this.connectGate?.promise;
    this.reopen();
  }
  async subscribe(): Promise<void> {}
  async run(): Promise<void> {
    this.running = true;
    await this.runGate?.promise;
    this.reopen(); // the join retries on a fresh connection
    this.running = false;
    this.listeners?.onGroupJoin({ memberId: 'm', isLeader: true, assignment: { t: [0] } });
  }
  async disconnect(): Promise<void> {
    this.disconnects++;
    if (this.running) this.disconnectsWhileRunStarting++;
    if (this.connected) {
      this.connected = false;
      this.net.open--;
    }
  }
  async describeCluster(): Promise<KafkaClusterDescription> {
    await this.describeGate?.promise;
    this.reopen(); // kafkajs's retrier reconnects a broker closed under the request
    return { brokers: [{ nodeId: 1, host: 'h', port: 1 }], controller: 1, clusterId: 'c' };
  }
}

class RaceKafka {
  readonly net = new Network();
  readonly consumers: RaceClient[] = [];
  readonly admins: RaceClient[] = [];
  /** Applied to each new client before the pool uses it. */
  prepare: (client: RaceClient) => void = () => undefined;
  private readonly base = new FakeKafka();
  readonly driver: KafkaDriver = {
    ...this.base.driver,
    consumer: (_config, listeners) => {
      const c = new RaceClient(this.net, listeners);
      this.prepare(c);
      this.consumers.push(c);
      return c;
    },
    admin: () => {
      const a = new RaceClient(this.net);
      this.prepare(a);
      this.admins.push(a);
      return a;
    },
  };
}

const pools: KafkaPool[] = [];
const tick = (ms = 0) => new Promise((r) => setTimeout(r, ms));

function makePool(
  race: RaceKafka,
  consumer: { joinTimeoutMs?: number; stopTimeoutMs?: number } = {},
) {
  const pool = new KafkaPool(
    { brokers: ['b:9092'], startTimeoutMs: 200, sendTimeoutMs: 200, consumer },
    { name: 'race', driver: () => race.driver },
  );
  pools.push(pool);
  return pool;
}

const consumeOptions = { groupId: 'g', topics: ['t'], eachMessage: async () => undefined };

afterEach(async () => {
  await Promise.all(pools.splice(0).map((p) => p.close()));
});

describe('ManagedConsumer: a stop racing the start steps leaves no connection open', () => {
  it('drain() while connect() is in flight closes the connection that connect opens', async () => {
    const race = new RaceKafka();
    const gate = new Gate();
    race.prepare = (c) => (c.connectGate = gate);
    const pool = makePool(race);
    const consumed = pool.consume(consumeOptions).catch((e: unknown) => e);
    await tick();
    setTimeout(() => gate.open(), 20);
    const report = await pool.drain(5_000);
    expect(report.timedOut).toBe(false);
    expect(race.net.open).toBe(0); // closed before the drain reports done
    expect((await consumed) as Error).toMatchObject({ name: 'PoolClosedError' });
    await tick(40);
    expect(race.net.open).toBe(0);
    expect(race.consumers[0]?.disconnects).toBe(1);
  });

  it('a connect completing after the stop deadline is still closed', async () => {
    const race = new RaceKafka();
    const gate = new Gate();
    race.prepare = (c) => (c.connectGate = gate);
    const pool = makePool(race);
    void pool.consume(consumeOptions).catch(() => undefined);
    await tick();
    const report = await pool.drain(20);
    expect(report.consumers[0]).toMatchObject({ timedOut: true });
    gate.open();
    await tick(5);
    expect(race.net.open).toBe(0);
  });

  it('the join timeout firing during connect: consume() rejects with nothing left open', async () => {
    const race = new RaceKafka();
    const gate = new Gate();
    race.prepare = (c) => (c.connectGate = gate);
    const pool = makePool(race, { joinTimeoutMs: 5 });
    setTimeout(() => gate.open(), 30);
    const error = await pool.consume(consumeOptions).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConsumerJoinTimeoutError);
    expect(race.net.open).toBe(0);
    expect(pool.stats().consumers).toEqual([]);
    await tick(40);
    expect(race.net.open).toBe(0);
  });

  it('a stop during run() waits for it instead of disconnecting under the joining runner', async () => {
    const race = new RaceKafka();
    const gate = new Gate();
    race.prepare = (c) => (c.runGate = gate);
    const pool = makePool(race);
    const consumed = pool.consume(consumeOptions).catch((e: unknown) => e);
    await tick(5);
    expect(race.consumers[0]?.running).toBe(true);
    setTimeout(() => gate.open(), 20);
    const report = await pool.drain(5_000);
    expect(report.timedOut).toBe(false);
    expect(race.consumers[0]).toMatchObject({ disconnects: 1, disconnectsWhileRunStarting: 0 });
    expect(race.net.open).toBe(0);
    expect((await consumed) as Error).toMatchObject({ name: 'PoolClosedError' });
  });

  it('a consumer that joined is still stopped by one graceful disconnect', async () => {
    const race = new RaceKafka();
    const pool = makePool(race);
    const handle = await pool.consume(consumeOptions);
    expect(race.net.open).toBe(1);
    const report = await handle.stop();
    expect(report.timedOut).toBe(false);
    expect(race.consumers[0]?.disconnects).toBe(1);
    expect(race.net.open).toBe(0);
  });
});

describe('AdminProbe: close() racing a ping leaves no connection open', () => {
  it('close() during the first ping’s connect closes the connection that connect opens', async () => {
    const race = new RaceKafka();
    const gate = new Gate();
    race.prepare = (c) => (c.connectGate = gate);
    const pool = makePool(race);
    const ping = pool.ping(1_000).catch((e: unknown) => e);
    await tick();
    setTimeout(() => gate.open(), 20);
    await pool.close();
    expect(race.net.open).toBe(0);
    await ping;
    await tick(5);
    expect(race.net.open).toBe(0);
  });

  it('close() during a metadata request disconnects after it (its retry would reconnect)', async () => {
    const race = new RaceKafka();
    const pool = makePool(race);
    await pool.ping(1_000);
    const admin = race.admins[0]!;
    const gate = new Gate();
    admin.describeGate = gate;
    const ping = pool.ping(1_000).catch((e: unknown) => e);
    await tick();
    setTimeout(() => gate.open(), 20);
    await pool.close();
    expect(race.net.open).toBe(0);
    expect(await ping).toBeUndefined();
    await tick(40);
    expect(race.net.open).toBe(0);
  });

  it('a metadata request outliving its ping timeout and close() is disconnected when it ends', async () => {
    const race = new RaceKafka();
    const pool = makePool(race);
    await pool.ping(1_000);
    const admin = race.admins[0]!;
    const gate = new Gate();
    admin.describeGate = gate;
    const ping = pool.ping(10).catch((e: unknown) => e);
    await tick();
    const start = Date.now();
    await pool.close(); // waits for the ping's timeout, not for the request
    expect(Date.now() - start).toBeLessThan(1_000);
    expect((await ping) as Error).toMatchObject({ name: 'BrokerUnreachableError' });
    gate.open();
    await tick(5);
    expect(race.net.open).toBe(0);
  });
});

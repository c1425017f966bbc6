import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConsumerJoinTimeoutError, KafkaPool } from '../../../lib/kafka/index.js';
import { kafkaBrokers } from '../../support/broker-env.js';
import {
  collectingLogger,
  deleteGroups,
  rawKafka,
  sleep,
  uniqueName,
} from './kafka-test-support.js';

/**
 * A stop or close racing a client's connect: kafkajs opens the connection of a `connect()` in flight
 * even when `disconnect()` was called meanwhile, so the pool must disconnect once the connect
 * settled. Measured by what matters: sockets to the brokers that keep this process alive (kafkajs
 * unrefs a socket it closes, so a ref'd one after `close()` is a leak) — counted, with a short grace
 * period for the socket teardown.
 */
const brokerPorts = new Set(kafkaBrokers().map((b) => Number(b.slice(b.lastIndexOf(':') + 1))));

function brokerSockets(): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter(
    (h) => h instanceof net.Socket && !h.destroyed && brokerPorts.has(h.remotePort ?? -1),
  ).length;
}

/** Sockets to the brokers still open (and ref'd) `graceMs` after the pool closed. */
async function socketsAfter(graceMs = 2_000): Promise<number> {
  const start = Date.now();
  while (brokerSockets() > 0 && Date.now() - start < graceMs) await sleep(50);
  return brokerSockets();
}

function newPool(consumer: { joinTimeoutMs?: number } = {}): KafkaPool {
  return new KafkaPool(
    { brokers: kafkaBrokers(), clientId: 'it-races', consumer },
    { name: 'it-races', logger: collectingLogger() },
  );
}

describe('KafkaPool against a real broker: close racing a connect leaves no socket open', () => {
  const topic = uniqueName('it-races');
  const groups: string[] = [];

  beforeAll(async () => {
    // Own admin, disconnected right away: no helper socket may be open while sockets are counted.
    const admin = rawKafka().admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
  });

  afterAll(async () => {
    await deleteGroups(groups);
    const admin = rawKafka().admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [topic], timeout: 10_000 }).catch(() => undefined);
    } finally {
      await admin.disconnect();
    }
  });

  it('consume() immediately followed by drain(): the consumer connecting meanwhile is closed', async () => {
    expect(brokerSockets()).toBe(0);
    // 0: stop during connect; the others land in subscribe / run / join, depending on the machine.
    for (const delayMs of [0, 0, 2, 5, 15, 40]) {
      const pool = newPool();
      const group = uniqueName('it-races-drain');
      groups.push(group);
      const consumed = pool
        .consume({
          groupId: group,
          topics: [topic],
          eachMessage: async () => undefined,
          maxWaitTimeMs: 100,
        })
        .then(
          () => 'joined',
          (error: Error) => error.name,
        );
      if (delayMs === 0) await new Promise((r) => setImmediate(r));
      else await sleep(delayMs);
      const report = await pool.drain(10_000);
      await consumed;
      await pool.close();
      expect(report.timedOut, `drain report after ${delayMs} ms`).toBe(false);
      expect(await socketsAfter(), `sockets left by a drain after ${delayMs} ms`).toBe(0);
    }
  });

  it('the join timeout firing during connect leaves nothing running once consume() rejects', async () => {
    expect(brokerSockets()).toBe(0);
    // 1 ms: fires during connect; the longer ones land in subscribe / run / join.
    for (const joinTimeoutMs of [1, 1, 1, 5, 15, 40]) {
      const pool = newPool({ joinTimeoutMs });
      const group = uniqueName('it-races-join');
      groups.push(group);
      const outcome = await pool
        .consume({
          groupId: group,
          topics: [topic],
          eachMessage: async () => undefined,
          maxWaitTimeMs: 100,
        })
        .then(
          () => 'joined',
          (error: unknown) => error,
        );
      // consume() rejected: "nothing is left running" must already hold, before close().
      const left = outcome === 'joined' ? 0 : await socketsAfter();
      await pool.close();
      if (outcome !== 'joined') expect(outcome).toBeInstanceOf(ConsumerJoinTimeoutError);
      expect(left, `sockets left by a join timeout of ${joinTimeoutMs} ms`).toBe(0);
      expect(await socketsAfter(), `after close (join timeout ${joinTimeoutMs} ms)`).toBe(0);
    }
  });

  it('close() during the first ping closes the admin connection that ping is opening', async () => {
    expect(brokerSockets()).toBe(0);
    const pool = newPool();
    await pool.start();
    const ping = pool.ping(5_000).then(
      () => 'ok',
      (error: Error) => error.name,
    );
    await new Promise((r) => setImmediate(r));
    await pool.close();
    await ping;
    expect(await socketsAfter()).toBe(0);
  });

  it('close() during a metadata request of a connected admin closes it after the request', async () => {
    expect(brokerSockets()).toBe(0);
    for (const delayMs of [0, 1, 3]) {
      const pool = newPool();
      await pool.start();
      await pool.ping(5_000);
      const ping = pool.ping(5_000).then(
        () => 'ok',
        (error: Error) => error.name,
      );
      await sleep(delayMs);
      await pool.close();
      await ping;
      expect(await socketsAfter(), `sockets left by a close after ${delayMs} ms`).toBe(0);
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrokerUnreachableError,
  KafkaPool,
  SendFailedError,
  SendTimeoutError,
} from '../../lib/kafka/index.js';
import { createDisposableKafka, type DisposableKafka } from '../support/disposable-kafka.js';
import {
  collectingLogger,
  createTopics,
  rawKafka,
  sleep,
  uniqueName,
  waitFor,
} from '../integration/kafka/kafka-test-support.js';
import { trapUnhandled, waitForPortOpen } from './support/broker-faults.js';
import { recordFigure } from './support/figures.js';

type Phase = 'before' | 'down' | 'after';
type Outcome = {
  phase: Phase;
  value: string;
  ok: boolean;
  error?: unknown;
  ms: number;
  at: number;
};
type Handled = { value: string; partition: number; offset: number; at: number };

const SEND_TIMEOUT_MS = 4_000;
const SENDERS = 8;
const PARTITIONS = 2;

/**
 * Scenario 6: the disposable Kafka broker is stopped — crashed (SIGKILL) in one case, shut down gracefully
 * (SIGTERM) in the other — and restarted while the pool sends continuously and a managed consumer group runs. Sends must fail with typed errors within their deadline
 * while it is down and recover after; the consumer must survive (restart policy) and resume from its
 * committed offsets: nothing acknowledged is missed, nothing already committed is handled again.
 */
describe('reliability #6: Kafka broker stopped and restarted under send load with a consumer group', () => {
  let broker: DisposableKafka;

  beforeAll(async () => {
    broker = await createDisposableKafka({ label: 'restart' });
    await broker.start();
  }, 180_000);

  afterAll(async () => {
    await broker?.dispose();
  });

  it('kill -9: no crash; sends fail typed then recover; the consumer resumes from committed offsets and sees every acknowledged record', async () => {
    await outageScenario(broker, 'kill -9');
  }, 180_000);

  it('graceful stop (SIGTERM): same expectations', async () => {
    await outageScenario(broker, 'SIGTERM');
  }, 180_000);
});

async function outageScenario(broker: DisposableKafka, mode: 'kill -9' | 'SIGTERM'): Promise<void> {
  const topic = uniqueName('rel-restart');
  const groupId = uniqueName('rel-restart-g');
  const dropTopic = await createTopics([{ topic, numPartitions: PARTITIONS }], broker.brokers);
  const pool = new KafkaPool(
    {
      brokers: broker.brokers,
      clientId: 'rel-restart',
      sendTimeoutMs: SEND_TIMEOUT_MS,
      connectTimeoutMs: 1_000,
      retry: { retries: 3, initialRetryTimeMs: 100, maxRetryTimeMs: 500 },
      reconnect: { initialDelayMs: 100, maxDelayMs: 1_000 },
      consumer: {
        sessionTimeoutMs: 6_000,
        heartbeatIntervalMs: 1_000,
        retry: { retries: 2, initialRetryTimeMs: 100, maxRetryTimeMs: 500 },
        // A tight crash-loop limit: crashes caused by the outage must not exhaust it.
        restart: { initialDelayMs: 200, maxDelayMs: 2_000, maxRestarts: 2, windowMs: 120_000 },
      },
    },
    { name: 'restart', logger: collectingLogger() },
  );
  const trap = trapUnhandled();
  try {
    await pool.start();
    const handled: Handled[] = [];
    const handle = await pool.consume({
      groupId,
      topics: [topic],
      fromBeginning: true,
      eachMessage: async ({ partition, message }) => {
        handled.push({
          value: message.value?.toString() ?? '',
          partition,
          offset: Number(message.offset),
          at: Date.now(),
        });
      },
    });

    // The group's committed offsets, as the broker reports them, polled until the kill.
    const admin = rawKafka(broker.brokers).admin({ retry: { retries: 0 } });
    await admin.connect();
    const committed = new Map<number, number>();
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const offsets = await admin
          .fetchOffsets({ groupId, topics: [topic] })
          .catch(() => undefined);
        if (!polling) break;
        for (const p of offsets?.[0]?.partitions ?? []) {
          const n = Number(p.offset);
          if (n >= 0) committed.set(p.partition, n);
        }
        await sleep(100);
      }
    })();

    let phase: Phase = 'before';
    const outcomes: Outcome[] = [];
    let stop = false;
    let seq = 0;
    const senders = Array.from({ length: SENDERS }, async () => {
      while (!stop) {
        const at = phase;
        const start = Date.now();
        const value = `m${seq++}`;
        try {
          await pool.send({ topic, messages: [{ key: value, value }] });
          outcomes.push({ phase: at, value, ok: true, ms: Date.now() - start, at: Date.now() });
        } catch (error) {
          outcomes.push({
            phase: at,
            value,
            ok: false,
            error,
            ms: Date.now() - start,
            at: Date.now(),
          });
        }
        await sleep(10);
      }
    });

    try {
      await sleep(3_000);
      expect(outcomes.filter((o) => o.phase === 'before').every((o) => o.ok)).toBe(true);
      await waitFor(
        () => handled.length > 50 && committed.size > 0,
        15_000,
        'consumption and commits before the kill',
      );

      polling = false;
      await poller;
      const committedAtKill = new Map(committed);
      await admin.disconnect().catch(() => undefined);
      const stopIssuedAt = Date.now();
      if (mode === 'kill -9') await broker.kill9();
      else await broker.stop();
      const killedAt = Date.now();
      const stopMs = killedAt - stopIssuedAt;
      phase = 'down';
      const handledBefore = handled.length;
      const maxOffsetBefore = new Map<number, number>();
      for (const h of handled)
        maxOffsetBefore.set(
          h.partition,
          Math.max(h.offset, maxOffsetBefore.get(h.partition) ?? -1),
        );

      await sleep(8_000);
      const downErrors = outcomes.filter((o) => o.phase === 'down' && !o.ok);
      expect(downErrors.length).toBeGreaterThan(3);
      // Every failed send (whatever the phase) is typed and came within its deadline (+ timer slack).
      for (const o of outcomes.filter((x) => !x.ok)) {
        expect(o.error instanceof SendFailedError || o.error instanceof SendTimeoutError).toBe(
          true,
        );
        expect(o.ms).toBeLessThan(SEND_TIMEOUT_MS + 1_000);
      }
      const health = pool.health();
      expect(health.healthy).toBe(false);
      // A failed send replaced the idempotent producer: it reconnects (or, once connected, the failed
      // send keeps the pool down until a send or ping succeeds).
      expect(health.reason).toMatch(
        /last send failed \((connection|timeout)\)|producer connecting/,
      );
      await expect(pool.ping(1_000)).rejects.toBeInstanceOf(BrokerUnreachableError);

      const restartIssuedAt = Date.now();
      const restarting = broker.start();
      const backAt = await waitForPortOpen(broker.port, 120_000);
      await restarting;
      phase = 'after';
      await waitFor(
        () => outcomes.some((o) => o.ok && o.at >= backAt),
        60_000,
        'a send to succeed after the restart',
      );
      await waitFor(
        () => handled.length > handledBefore,
        60_000,
        'the consumer to handle a record after the restart',
      );
      await sleep(2_000);
      stop = true;
      await Promise.all(senders);

      const firstSendOkAt = outcomes.filter((o) => o.ok && o.at >= backAt)[0]?.at ?? 0;
      const resumedAt = handled[handledBefore]?.at ?? 0;
      const after = outcomes.filter((o) => o.phase === 'after');
      const firstOk = after.findIndex((o) => o.ok);
      // Once a send got through again, the rest succeed too (those already in flight may still fail).
      expect(after.slice(firstOk + SENDERS).every((o) => o.ok)).toBe(true);
      expect(pool.health().healthy).toBe(true);
      await pool.ping(5_000);

      // Every acknowledged record reaches the consumer, which survived the outage.
      const acked = outcomes.filter((o) => o.ok).map((o) => o.value);
      const seen = (): Set<string> => new Set(handled.map((h) => h.value));
      await waitFor(
        () => {
          const s = seen();
          return acked.every((v) => s.has(v));
        },
        60_000,
        `the consumer to see all ${acked.length} acknowledged records`,
      ).catch(async (error: unknown) => {
        const s = seen();
        const missing = acked.filter((v) => !s.has(v));
        // Is it in the topic at all? Read it back with a fresh group.
        const reader = rawKafka(broker.brokers).consumer({ groupId: uniqueName('diag') });
        const inTopic = new Map<string, string>();
        await reader.connect();
        await reader.subscribe({ topics: [topic], fromBeginning: true });
        await reader.run({
          eachMessage: async ({ partition, message }) => {
            const v = message.value?.toString() ?? '';
            if (missing.includes(v)) inTopic.set(v, `p${partition}@${message.offset}`);
          },
        });
        await sleep(8_000);
        await reader.disconnect();
        const outcome = outcomes.find((o) => o.value === missing[0]);
        console.log(
          '[kafka DIAG]',
          JSON.stringify({
            missing: missing.length,
            sample: missing.slice(0, 5),
            inTopic: [...inTopic],
            outcome: outcome && { phase: outcome.phase, at: outcome.at - killedAt, ms: outcome.ms },
            committedAtKill: [...committedAtKill],
            handled: handled.length,
            state: handle.state,
          }),
        );
        throw error;
      });
      expect(['running', 'restarting', 'starting']).toContain(handle.state);

      // Resumed from committed offsets: per partition, the first offset handled after the outage is not
      // below what the broker had committed (nothing committed is handled again) and not past the last
      // one handled + 1 (nothing skipped). What lies in between is the at-least-once window.
      let window = 0;
      for (let p = 0; p < PARTITIONS; p++) {
        const firstAfter = handled.slice(handledBefore).find((h) => h.partition === p)?.offset;
        if (firstAfter === undefined) continue;
        expect(firstAfter).toBeGreaterThanOrEqual(committedAtKill.get(p) ?? 0);
        expect(firstAfter).toBeLessThanOrEqual((maxOffsetBefore.get(p) ?? -1) + 1);
        window += Math.max(0, (maxOffsetBefore.get(p) ?? -1) + 1 - firstAfter);
      }
      // A record handled before the outage and handled again lies in that window: at or past the offset
      // the broker had committed for its partition.
      const timesHandled = new Map<string, number>();
      for (const h of handled) timesHandled.set(h.value, (timesHandled.get(h.value) ?? 0) + 1);
      let duplicates = 0;
      for (const n of timesHandled.values()) duplicates += n - 1;
      const redoneBeyondWindow = handled
        .slice(0, handledBefore)
        .filter((h) => (timesHandled.get(h.value) ?? 0) > 1)
        .filter((h) => h.offset < (committedAtKill.get(h.partition) ?? 0));
      expect(redoneBeyondWindow).toEqual([]);
      expect(trap.errors).toEqual([]);

      const stats = handle.stats();
      const codes = [...new Set(downErrors.map((o) => (o.error as { code?: string }).code))];
      const sendRecoverMs = firstSendOkAt - backAt;
      const resumeMs = resumedAt - backAt;
      console.log(
        `[kafka ${mode}] stop took ${stopMs}ms; sends: before ${outcomes.filter((o) => o.phase === 'before').length}; ` +
          `down ${downErrors.length} failed (${codes.join(', ')}); after ${after.filter((o) => o.ok).length} ok / ${after.length}. ` +
          `Broker port open ${backAt - killedAt}ms after it was down (start issued at +${restartIssuedAt - killedAt}ms); ` +
          `first successful send ${sendRecoverMs}ms after port open (${firstSendOkAt - killedAt}ms after it went down); ` +
          `consumer resumed ${resumeMs}ms after port open; ${acked.length} acknowledged, all consumed; ` +
          `${duplicates} duplicates (window ${window}), committed offsets at the outage ${JSON.stringify([...committedAtKill])}; ` +
          `consumer crashes ${stats.crashes}, restarts ${stats.restarts}, state ${handle.state}`,
      );
      recordFigure({
        scenario: 6,
        title: `Kafka broker ${mode} + restart under send load with a consumer group`,
        expectation:
          'no crash; sends fail typed within their deadline, then recover; consumer resumes from committed offsets, every acked record consumed',
        result:
          `${downErrors.length} typed send failures (${codes.join(', ')}); port open → first successful send ${sendRecoverMs} ms; ` +
          `consumer resumed ${resumeMs} ms after port open; ${acked.length.toLocaleString('en-US')} acked, 0 missed, ` +
          `${duplicates} duplicates (all within the uncommitted window); ${stats.restarts} consumer restarts; 0 unhandled errors`,
      });
    } finally {
      stop = true;
      polling = false;
      await Promise.all(senders);
      await admin.disconnect().catch(() => undefined);
      await handle.stop().catch(() => undefined);
    }
  } finally {
    trap.dispose();
    await pool.close();
    await dropTopic().catch(() => undefined);
  }
}

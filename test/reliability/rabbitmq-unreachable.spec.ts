import { describe, expect, it } from 'vitest';
import { RabbitMqPool } from '../../lib/rabbitmq/index.js';
import {
  useDisposableRabbitMq,
  isDisposableRabbitMqSupported,
} from '../support/disposable-rabbitmq.js';
import {
  adminConnection,
  eventually,
  queueDepth,
  sleep,
  testLogger,
  uniqueName,
} from '../integration/rabbitmq/support/rabbitmq-admin.js';
import { trapUnhandled } from './support/broker-faults.js';
import { recordFigure } from './support/figures.js';

/** The figure (RabbitMQ adapter proof): unreachable for 30 s. */
const OUTAGE_MS = 30_000;
const OUTAGE = `${OUTAGE_MS / 1000} s`;
const CALLERS = 64;

/**
 * Scenario 1's long variant: the disposable node is killed and stays down for 30 s while 64 callers keep
 * publishing and leasing. Every call must fail at its own deadline (no hang, no fast spin) with the connect
 * error as `cause`; waiting and memory stay bounded; reconnects follow the capped backoff, not a tight loop;
 * the pool recovers by itself when the node returns.
 */
describe.skipIf(!isDisposableRabbitMqSupported())(
  `reliability #1 (long outage): RabbitMQ node unreachable for ${OUTAGE}`,
  () => {
    const disposable = useDisposableRabbitMq({ label: 'down' });

    it(`broker unreachable for ${OUTAGE}: calls fail at their deadline with the connect error as cause, memory bounded, no tight reconnect loop, recovery`, async () => {
      const trap = trapUnhandled();
      const pool = new RabbitMqPool(
        {
          url: disposable().url,
          connectionName: uniqueName('rel-outage'),
          acquireTimeoutMs: 1_000,
          maxWaiting: 200,
        },
        { name: 'outage', logger: testLogger() },
      );
      let stop = false;
      let restarted = true;
      try {
        await pool.start();
        const q = uniqueName('rel-outage-q');
        await pool.withChannel((ch) => ch.assertQueue(q, { durable: true }));
        await disposable().syncMetadata(); // the queue definition must survive the kill (see syncMetadata)
        await pool.sendToQueue(q, 'before');

        await disposable().kill9();
        restarted = false;
        const downAt = Date.now();
        const attemptsAtDown = pool.stats().connectAttempts;
        const heapAtDown = process.memoryUsage().heapUsed;
        const failures: Array<{ error: unknown; waitedMs: number }> = [];
        let maxWaiting = 0;
        const load = Array.from({ length: CALLERS }, async (_, i) => {
          while (!stop) {
            const t = Date.now();
            const call =
              i % 4 === 0
                ? pool.withChannel(async () => undefined)
                : pool.sendToQueue(q, Buffer.alloc(64 * 1024));
            await call.then(
              () => undefined,
              (error: unknown) => failures.push({ error, waitedMs: Date.now() - t }),
            );
            maxWaiting = Math.max(maxWaiting, pool.stats().waiting);
          }
        });
        while (Date.now() - downAt < OUTAGE_MS) {
          await sleep(500);
          expect(pool.health().healthy).toBe(false);
        }
        stop = true;
        await Promise.all(load);
        const heapGrowthMb = (process.memoryUsage().heapUsed - heapAtDown) / 1e6;
        const attempts = pool.stats().connectAttempts - attemptsAtDown;

        // Every call waited for its deadline (no fast spin), then failed with the connect error as cause.
        expect(failures.length).toBeGreaterThan(CALLERS * 5);
        const offDeadline = failures.filter((f) => f.waitedMs < 900 || f.waitedMs > 3_000);
        expect(offDeadline.map((f) => `${f.waitedMs}ms ${String(f.error)}`).slice(0, 5)).toEqual(
          [],
        );
        for (const { error } of failures) {
          expect((error as { code?: string }).code).toBe('MQ_POOL_ACQUIRE_TIMEOUT');
          expect(String((error as Error).cause)).toMatch(/ECONNREFUSED|ECONNRESET|closed|socket/i);
        }
        // Bounded waiting (the callers plus the publishing lane's own acquire) and memory, and a
        // reconnect pace set by the capped backoff (~2/s per connection), not a tight loop.
        expect(maxWaiting).toBeLessThanOrEqual(CALLERS + pool.options.publishChannels);
        expect(heapGrowthMb).toBeLessThan(50);
        expect(attempts).toBeGreaterThan(5);
        expect(attempts).toBeLessThan(2 * (OUTAGE_MS / 250));

        const restartIssuedAt = Date.now();
        await disposable().start();
        restarted = true;
        expect(await eventually(() => pool.health().healthy, 20_000)).toBe(true);
        await pool.sendToQueue(q, 'after');
        const recoveredMs = Date.now() - restartIssuedAt;
        const admin = await adminConnection(disposable().url);
        try {
          expect(await queueDepth(admin, q)).toBe(2);
        } finally {
          await admin.close().catch(() => undefined);
        }
        await pool.withChannel((ch) => ch.deleteQueue(q));
        expect(trap.errors).toEqual([]);

        const waited = failures.map((f) => f.waitedMs).sort((a, b) => a - b);
        const p50 = waited[Math.floor(waited.length / 2)] ?? 0;
        const max = waited[waited.length - 1] ?? 0;
        console.log(
          `[outage ${OUTAGE}] ${failures.length} calls failed at their 1000ms deadline (p50 ${p50}ms, max ${max}ms; ` +
            `cause: ${String((failures[0]?.error as Error).cause)}); ${attempts} connect attempts over ` +
            `${pool.options.connections + pool.options.consumerConnections} connections; heap growth ` +
            `${heapGrowthMb.toFixed(1)} MB; max waiting ${maxWaiting}; node restart → confirmed publish ${recoveredMs}ms`,
        );
        recordFigure({
          scenario: 1,
          title: `RabbitMQ node down for ${OUTAGE} under 64 callers (unreachable broker)`,
          expectation:
            'every call fails typed at its deadline with the connect error as cause; waiting and heap bounded; reconnect paced by backoff; recovers',
          result:
            `${failures.length} calls failed at the 1 s deadline (p50 ${p50} ms, max ${max} ms), cause ECONNREFUSED; ` +
            `${attempts} connect attempts in ${OUTAGE}; heap +${heapGrowthMb.toFixed(1)} MB; max waiting ${maxWaiting}; ` +
            `recovered (node start issued → confirmed publish) in ${recoveredMs} ms`,
        });
      } finally {
        stop = true;
        trap.dispose();
        await pool.close();
        if (!restarted) await disposable().start();
      }
    }, 180_000);
  },
);

import { describe, expect, it } from 'vitest';
import { MqPoolError } from '../../lib/core/errors/mq-pool.error.js';
import type { MqLogger } from '../../lib/core/logger.js';
import { Pool } from '../../lib/core/pool.js';
import { RabbitMqPool } from '../../lib/rabbitmq/index.js';
import {
  useDisposableRabbitMq,
  isDisposableRabbitMqSupported,
} from '../support/disposable-rabbitmq.js';
import {
  adminConnection,
  queueDepth,
  uniqueName,
} from '../integration/rabbitmq/support/rabbitmq-admin.js';
import { fullGc, settledHeapUsed, trapUnhandled } from './support/broker-faults.js';
import { recordFigure } from './support/figures.js';

const HEAP_GROWTH_LIMIT = 0.1;
const CYCLES = 1_000_000;
const PUBLISHES = 200_000;
/** Connections force-closed once per this many confirms: periodic, and independent of machine speed. */
const KILL_EVERY = 40_000;

/** Counts warnings and errors without keeping them (a soak must not grow a log array). */
function countingLogger(): MqLogger & { warnings: number; errors: number } {
  const logger = {
    warnings: 0,
    errors: 0,
    debug: () => undefined,
    info: () => undefined,
    warn: () => void logger.warnings++,
    error: () => void logger.errors++,
  };
  return logger;
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(1);
}

/**
 * Scenario 8, bounded for CI: a long run of the two hot paths (core acquire/release, confirmed publish
 * through connection kills), with heap measured after full GCs between a warm baseline and the end, and
 * every lease accounted for.
 */
describe('reliability #8: soak', () => {
  const gc = fullGc();

  it('1,000,000 acquire/release cycles on a core Pool: heap growth < 10 % after GC, no leaked lease', async () => {
    let created = 0;
    let destroyed = 0;
    let leakEvents = 0;
    const pool = new Pool<{ id: number }>(
      {
        create: async () => ({ id: created++ }),
        destroy: async () => void destroyed++,
      },
      {
        name: 'soak',
        max: 8,
        maxWaiting: 1_000,
        acquireTimeoutMs: 5_000,
        // Leak detection on (a lease held > 2 s is a leak), at hot-path cost: no stack capture.
        leakDetectionMs: 2_000,
        captureLeakSite: false,
        maxLifetimeMs: 200,
        logger: countingLogger(),
      },
    );
    pool.on('leak', () => void leakEvents++);

    // 32 workers over 8 resources: most acquires queue. One in 1,000 leases is destroyed instead of
    // released; one in 5,000 acquires is aborted while waiting. Both are the paths where leaks hide.
    let done = 0;
    let aborted = 0;
    let maxWaiting = 0;
    const run = async (cycles: number): Promise<void> => {
      const target = done + cycles;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (done < target) {
            const n = done++;
            if (n % 5_000 === 4_999) {
              const ac = new AbortController();
              const pending = pool.acquire({ signal: ac.signal });
              ac.abort(new Error('soak abort'));
              await pending.then(
                (lease) => lease.release(),
                () => void aborted++,
              );
              continue;
            }
            const lease = await pool.acquire();
            if (n % 10_000 === 0) maxWaiting = Math.max(maxWaiting, pool.stats().waiting);
            if (n % 1_000 === 999) await lease.destroy(new Error('soak destroy'));
            else lease.release();
          }
        }),
      );
    };

    await run(100_000);
    const baseline = await settledHeapUsed(gc);
    const started = Date.now();
    await run(CYCLES);
    const elapsedMs = Date.now() - started;
    const end = await settledHeapUsed(gc);
    const growth = (end - baseline) / baseline;
    const stats = pool.stats();

    expect(stats.leased).toBe(0);
    expect(stats.waiting).toBe(0);
    expect(stats.leaks).toBe(0);
    expect(leakEvents).toBe(0);
    expect(stats.size).toBeLessThanOrEqual(8);
    await pool.close();
    expect(created - destroyed).toBe(0); // every resource created was destroyed: none lost
    expect(growth).toBeLessThan(HEAP_GROWTH_LIMIT);
    expect(maxWaiting).toBeGreaterThan(0); // the queued path ran, not only the idle fast path

    const rate = Math.round(CYCLES / (elapsedMs / 1000));
    console.log(
      `[soak pool] ${CYCLES} cycles in ${elapsedMs}ms (${rate}/s), 32 workers / max 8; ${created} resources created ` +
        `and destroyed, ${aborted} aborted waits, up to ${maxWaiting} waiting (sampled); heap ${mb(baseline)} → ${mb(end)} MB after GC ` +
        `(${(growth * 100).toFixed(2)} %); 0 leased, 0 leaks`,
    );
    recordFigure({
      scenario: 8,
      title: `Soak: ${CYCLES.toLocaleString('en-US')} acquire/release cycles on a core Pool`,
      expectation: 'heap growth < 10 % after GC; zero leaked leases',
      result:
        `${rate.toLocaleString('en-US')} cycles/s; heap ${mb(baseline)} → ${mb(end)} MB after GC ` +
        `(${(growth * 100).toFixed(2)} %); 0 leaked leases, ${created} resources created = destroyed`,
    });
  }, 120_000);

  describe.skipIf(!isDisposableRabbitMqSupported())('RabbitMQ', () => {
    const disposable = useDisposableRabbitMq({ label: 'soak' });

    it('200,000 confirmed publishes with the connections force-closed every 40,000 confirms: heap growth < 10 % after GC, no leaked lease, nothing confirmed lost', async () => {
      const trap = trapUnhandled();
      const logger = countingLogger();
      const pool = new RabbitMqPool(
        {
          url: disposable().url,
          connectionName: uniqueName('rel-soak'),
          acquireTimeoutMs: 10_000,
          // Leak detection on: the publishing lane must rotate its long-held channels, never leak them.
          leakDetectionMs: 5_000,
        },
        { name: 'soak', logger },
      );
      let leakEvents = 0;
      let downs = 0;
      pool.on('leak', () => void leakEvents++);
      pool.on('connectionDown', () => void downs++);
      const q = uniqueName('rel-soak-q');
      const body = Buffer.from('soak-message-0123456789abcdef');
      let confirmed = 0;
      let kills = 0;
      const failures = new Map<string, number>();
      let killing = false;
      let killer: Promise<void> = Promise.resolve();
      try {
        await pool.start();
        await pool.withChannel((ch) => ch.assertQueue(q, { durable: true }));

        // 256 callers publish until `target` confirms; rejected publishes (connection killed under
        // them) are typed and counted, and the caller goes on.
        const publishUntil = async (target: number): Promise<void> => {
          await Promise.all(
            Array.from({ length: 256 }, async () => {
              while (confirmed < target) {
                try {
                  await pool.sendToQueue(q, body);
                  confirmed++;
                } catch (error) {
                  if (!(error instanceof MqPoolError)) throw error;
                  failures.set(error.code, (failures.get(error.code) ?? 0) + 1);
                }
              }
            }),
          );
        };
        const startKiller = (every: number): void => {
          killing = true;
          killer = (async () => {
            let next = confirmed + every;
            while (killing) {
              if (confirmed < next) {
                await new Promise((r) => setTimeout(r, 25));
                continue;
              }
              // The next threshold counts from when this close was issued, not from when
              // rabbitmqctl returned (~0.5 s, i.e. thousands of confirms at full speed): closes
              // are `every` confirms apart however fast publishing goes.
              next = confirmed + every;
              await disposable().ctl('close_all_connections', 'reliability soak: forced close');
              kills++;
            }
          })();
        };

        // Warm up through one kill and its recovery, then take the baseline.
        startKiller(10_000);
        await publishUntil(20_000);
        while (kills < 1) await publishUntil(confirmed + 2_000);
        killing = false;
        await killer;
        await publishUntil(confirmed + 2_000);
        const baseline = await settledHeapUsed(gc);
        const confirmedAtBaseline = confirmed;
        const killsAtBaseline = kills;

        const started = Date.now();
        startKiller(KILL_EVERY);
        await publishUntil(confirmedAtBaseline + PUBLISHES);
        killing = false;
        await killer;
        const elapsedMs = Date.now() - started;
        const published = confirmed - confirmedAtBaseline;
        // Let the pool reconnect and settle before the end measure, as the baseline did.
        await publishUntil(confirmed + 2_000);
        const end = await settledHeapUsed(gc);
        const growth = (end - baseline) / baseline;

        const statsEnd = pool.stats();
        const admin = await adminConnection(disposable().url);
        let depth: number;
        try {
          depth = await queueDepth(admin, q);
        } finally {
          await admin.close().catch(() => undefined);
        }
        const report = await pool.drain(15_000);

        expect(kills - killsAtBaseline).toBeGreaterThanOrEqual(4);
        expect(downs).toBeGreaterThanOrEqual(kills); // each forced close really dropped the pool's connections
        expect(depth).toBeGreaterThanOrEqual(confirmed); // at-least-once: nothing confirmed missing
        expect(statsEnd.leaks).toBe(0);
        expect(leakEvents).toBe(0);
        expect(report.timedOut).toBe(false);
        expect(report.channels.leasedAtDeadline).toBe(0);
        expect(report.after.channels.leased).toBe(0);
        expect(report.after.channels.total).toBe(0);
        expect(trap.errors).toEqual([]);
        expect(growth).toBeLessThan(HEAP_GROWTH_LIMIT);

        const rate = Math.round(published / (elapsedMs / 1000));
        const failed = [...failures].map(([code, n]) => `${n} ${code}`).join(', ') || 'none';
        console.log(
          `[soak rabbitmq] ${published} confirmed publishes in ${elapsedMs}ms (${rate}/s, 256 callers) with ` +
            `${kills - killsAtBaseline} forced closes of all connections (${kills} in total, ${downs} connection drops seen); ` +
            `rejected (typed): ${failed}; queue depth ${depth} >= ${confirmed} confirmed; heap ${mb(baseline)} → ` +
            `${mb(end)} MB after GC (${(growth * 100).toFixed(2)} %); 0 leaks; drain: 0 leased, 0 unconfirmed`,
        );
        recordFigure({
          scenario: 8,
          title: `Soak: ${PUBLISHES.toLocaleString('en-US')} confirmed publishes with periodic connection kills`,
          expectation: 'heap growth < 10 % after GC; zero leaked leases; nothing confirmed lost',
          result:
            `${rate.toLocaleString('en-US')} publishes/s through ${kills - killsAtBaseline} forced closes; heap ${mb(baseline)} → ` +
            `${mb(end)} MB after GC (${(growth * 100).toFixed(2)} %); 0 leaked leases; ` +
            `depth ${depth.toLocaleString('en-US')} ≥ ${confirmed.toLocaleString('en-US')} confirmed`,
        });
        await pool.close();
        const cleanup = await adminConnection(disposable().url);
        try {
          const ch = await cleanup.createChannel();
          await ch.deleteQueue(q);
        } finally {
          await cleanup.close().catch(() => undefined);
        }
      } finally {
        killing = false;
        await killer.catch(() => undefined);
        trap.dispose();
        await pool.close();
      }
    }, 180_000);
  });
});

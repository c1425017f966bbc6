/**
 * Confirmed publishing throughput, side by side, in one run: persistent 256-byte messages to a durable
 * queue, every publish awaited until the broker's confirm, at concurrency 1, 16 and 256 (N callers each
 * awaiting one publish at a time). Variants:
 *   - publish()            this library's publisher lane (confirms pipelined on pooled channels)
 *   - withChannel()        this library, one exclusive lease per publish (8 channels)
 *   - raw shared channel   amqplib, one confirm channel shared by all callers
 *   - raw shared + messageId  the same, with a messageId per message like publish() sends
 *   - raw 8 channels RR    amqplib, 8 confirm channels round-robin
 *   - amqp-conn-manager    amqp-connection-manager 5, one confirm ChannelWrapper
 *   - rascal               rascal 21 with its defaults (confirm channel pool)
 * Reported: msgs/s, p50/p99 publish latency, client CPU µs per message (process.cpuUsage), and the
 * ratios the targets are stated in (publish() vs the best raw variant; vs rascal; CPU vs raw).
 *
 * Run: `node --import tsx bench/rabbitmq.bench.ts`
 * Env: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672), BENCH_MESSAGES (default 20000),
 *      BENCH_ROUNDS (default 3, variant order rotated per round; each metric's median is reported), BENCH_CONCURRENCY (default "1,16,256"),
 *      BENCH_VARIANTS (comma-separated subset of the names above), BENCH_TRACE=1 (print every run's figures),
 *      BENCH_WARMUP (publishes before and again after the pre-run GC; default 10000).
 * Also writes bench/results/rabbitmq.json (drawn by `npx tsx scripts/bench-chart.ts`).
 */
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';

import amqp from 'amqplib';
import type { ChannelModel, ConfirmChannel } from 'amqplib';
import amqpcm from 'amqp-connection-manager';

import { RabbitMqPool } from '../lib/rabbitmq/index.js';
import { type BenchRow, round, writeBenchResults } from './bench-results.js';
import { measure, medianResult, type Result, type Variant } from './publish-runner.js';

const URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,16,256').split(',').map(Number);
// Publishes before the pre-run GC (V8 optimises every variant's hot path) and again between that GC
// and the measured run (a full GC leaves a transient, most likely the young generation regrowing with
// the allocation rate, scavenging more often meanwhile). Measured at 256, 4-5 rounds each, medians:
// 2,000 + 2,000 gave the lane 12.1 µs/msg and raw amqplib 11.0 (steady state: 7-9 for both);
// 2,000 + 10,000 gave 9.4 and 8.2; 10,000 + 10,000 gave 7.9 and 7.6. The lane allocates the most
// per message, so a short warm-up charged it the most.
const WARMUP = Number(
  process.env.BENCH_WARMUP ?? Math.min(10_000, Math.max(50, Math.floor(MESSAGES / 2))),
);
const BODY = randomBytes(256);

/** rascal ships no types: the little of it used here. */
interface RascalPublication {
  on(event: 'success', fn: () => void): RascalPublication;
  on(event: 'error' | 'return', fn: (err: unknown) => void): RascalPublication;
}
interface RascalBroker {
  publish(name: string, content: Buffer): Promise<RascalPublication>;
  shutdown(): Promise<void>;
  on(event: 'error', fn: (err: unknown) => void): void;
}
interface Rascal {
  withDefaultConfig(config: unknown): unknown;
  BrokerAsPromised: { create(config: unknown): Promise<RascalBroker> };
}
const rascal = createRequire(import.meta.url)('rascal') as Rascal;

// A full GC before each measured run, so one variant's garbage is not collected on the next one's CPU time.

function confirmOn(ch: ConfirmChannel, queue: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    ch.sendToQueue(queue, BODY, { persistent: true }, (err: unknown) =>
      err ? reject(err) : resolve(),
    );
  });
}

const variants: Variant[] = [
  {
    name: 'publish()',
    async setup(queue) {
      const pool = new RabbitMqPool({ url: URL, channelsPerConnection: 8 }, { name: 'bench' });
      await pool.start();
      return { publish: () => pool.sendToQueue(queue, BODY), close: () => pool.close() };
    },
  },
  {
    name: 'withChannel()',
    async setup(queue) {
      const pool = new RabbitMqPool(
        { url: URL, channelsPerConnection: 8, maxWaiting: 10_000 },
        { name: 'bench-lease' },
      );
      await pool.start();
      return {
        publish: () => pool.withChannel((ch) => confirmOn(ch, queue)),
        close: () => pool.close(),
      };
    },
  },
  {
    name: 'raw shared channel',
    async setup(queue) {
      const conn: ChannelModel = await amqp.connect(URL);
      const ch = await conn.createConfirmChannel();
      return { publish: () => confirmOn(ch, queue), close: () => conn.close() };
    },
  },
  {
    // Like-for-like for CPU: the same message publish() sends (a messageId on every message, for
    // consumer-side dedup). amqplib's encoding of that one string costs ≈ 0.5 µs per message here.
    name: 'raw shared + messageId',
    async setup(queue) {
      const conn: ChannelModel = await amqp.connect(URL);
      const ch = await conn.createConfirmChannel();
      const prefix = `raw.${randomBytes(9).toString('base64url')}.`;
      let n = 0;
      return {
        publish: () =>
          new Promise<void>((resolve, reject) => {
            ch.sendToQueue(
              queue,
              BODY,
              { persistent: true, messageId: prefix + (++n).toString(36) },
              (err: unknown) => (err ? reject(err) : resolve()),
            );
          }),
        close: () => conn.close(),
      };
    },
  },
  {
    name: 'raw 8 channels RR',
    async setup(queue) {
      const conn: ChannelModel = await amqp.connect(URL);
      const chans = await Promise.all(Array.from({ length: 8 }, () => conn.createConfirmChannel()));
      let next = 0;
      return {
        publish: () => confirmOn(chans[next++ % chans.length] as ConfirmChannel, queue),
        close: () => conn.close(),
      };
    },
  },
  {
    name: 'amqp-conn-manager',
    async setup(queue) {
      const conn = amqpcm.connect([URL]);
      const wrapper = conn.createChannel({ confirm: true });
      await wrapper.waitForConnect();
      return {
        publish: async () => {
          await wrapper.sendToQueue(queue, BODY, { persistent: true });
        },
        close: async () => {
          await wrapper.close();
          await conn.close();
        },
      };
    },
  },
  {
    name: 'rascal',
    async setup(queue) {
      const config = rascal.withDefaultConfig({
        vhosts: {
          '/': {
            connection: { url: URL },
            queues: { [queue]: { assert: false, check: true } },
            publications: { p: { queue, options: { persistent: true } } },
          },
        },
      });
      const broker = await rascal.BrokerAsPromised.create(config);
      broker.on('error', (err) => console.error('rascal error', err));
      return {
        publish: () =>
          new Promise<void>((resolve, reject) => {
            broker
              .publish('p', BODY)
              .then((pub) => pub.on('success', () => resolve()).on('error', reject))
              .catch(reject);
          }),
        close: () => broker.shutdown(),
      };
    },
  },
];

async function runOnce(
  variant: Variant,
  concurrency: number,
  admin: ConfirmChannel,
): Promise<Result> {
  const queue = `bench-${variant.name.replace(/\W+/g, '-')}-${concurrency}-${randomBytes(3).toString('hex')}`;
  await admin.assertQueue(queue, { durable: true });
  const publisher = await variant.setup(queue);
  try {
    return await measure(publisher, concurrency, WARMUP, MESSAGES);
  } finally {
    await publisher.close().catch(() => undefined);
    await admin.deleteQueue(queue).catch(() => undefined);
  }
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const only = process.env.BENCH_VARIANTS?.split(',').map((s) => s.trim());
  const selected = only ? variants.filter((v) => only.includes(v.name)) : variants;
  const adminConn = await amqp.connect(URL);
  const admin = await adminConn.createConfirmChannel();
  console.log(
    `RabbitMQ confirmed publish bench: ${fmt(MESSAGES)} persistent ${BODY.length}-byte messages, ` +
      `${ROUNDS} round(s) (per-metric median), Node ${process.version}\n`,
  );
  const table = new Map<number, Map<string, Result>>();
  const rows: BenchRow[] = [];
  const summary: Record<string, number> = {};
  for (const concurrency of CONCURRENCY) {
    const row = new Map<string, Result>();
    table.set(concurrency, row);
    const rounds = new Map<string, Result[]>();
    for (let r = 0; r < ROUNDS; r++) {
      // Rotate the order every round: no variant always runs right after the same neighbour.
      const order = selected.map((_, i) => selected[(i + r) % selected.length] as Variant);
      for (const v of order) {
        const result = await runOnce(v, concurrency, admin);
        rounds.set(v.name, [...(rounds.get(v.name) ?? []), result]);
        if (process.env.BENCH_TRACE)
          console.log(
            `  r${r} ${v.name}: ${result.cpuUsPerMsg.toFixed(1)} µs/msg ${result.rate.toFixed(0)} msg/s`,
          );
      }
    }
    for (const v of selected) row.set(v.name, medianResult(rounds.get(v.name) ?? []));

    console.log(`concurrency ${concurrency}`);
    console.log(
      `  ${'variant'.padEnd(24)} ${'msgs/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'CPU µs/msg'.padStart(11)}`,
    );
    for (const [name, res] of row) {
      console.log(
        `  ${name.padEnd(24)} ${fmt(res.rate).padStart(9)} ${fmt(res.p50, 2).padStart(8)} ${fmt(res.p99, 2).padStart(8)} ${fmt(res.cpuUsPerMsg, 1).padStart(11)}`,
      );
    }
    const lib = row.get('publish()');
    const raws = ['raw shared channel', 'raw 8 channels RR']
      .map((n) => row.get(n))
      .filter((x): x is Result => x !== undefined);
    const bestRaw = raws.length ? raws.reduce((a, b) => (a.rate >= b.rate ? a : b)) : undefined;
    const rawShared = row.get('raw shared channel');
    const rawWithId = row.get('raw shared + messageId');
    // Paired per round (the variants of a round ran back to back): drifts in machine load cancel out.
    const pairedCpu = (other: string): number | undefined => {
      const mine = rounds.get('publish()');
      const theirs = rounds.get(other);
      if (!mine || !theirs) return undefined;
      const ratios = mine.map((m, i) => m.cpuUsPerMsg / (theirs[i] as Result).cpuUsPerMsg);
      return ratios.sort((a, b) => a - b)[Math.floor(ratios.length / 2)];
    };
    const rascalRes = row.get('rascal');
    if (lib) {
      const parts: string[] = [];
      if (bestRaw)
        parts.push(`publish()/best raw = ${fmt(lib.rate / bestRaw.rate, 2)}x (target >= 0.9)`);
      if (rascalRes)
        parts.push(
          `publish()/rascal = ${fmt(lib.rate / rascalRes.rate, 2)}x${concurrency === 256 ? ' (target >= 4)' : ''}`,
        );
      if (rawShared)
        parts.push(
          `CPU publish()/raw shared = ${fmt(lib.cpuUsPerMsg / rawShared.cpuUsPerMsg, 2)}x ` +
            `(paired per round ${fmt(pairedCpu('raw shared channel') ?? NaN, 2)}x; target <= 1.2)`,
        );
      if (rawWithId)
        parts.push(
          `CPU publish()/raw shared + messageId = ${fmt(lib.cpuUsPerMsg / rawWithId.cpuUsPerMsg, 2)}x ` +
            `(paired ${fmt(pairedCpu('raw shared + messageId') ?? NaN, 2)}x)`,
        );
      console.log(`  ${parts.join(';\n  ')}`);
      if (bestRaw) summary[`c${concurrency}.publishVsBestRaw`] = round(lib.rate / bestRaw.rate);
      if (rascalRes) summary[`c${concurrency}.publishVsRascal`] = round(lib.rate / rascalRes.rate);
      if (rawShared)
        summary[`c${concurrency}.cpuPublishVsRawShared`] = round(
          lib.cpuUsPerMsg / rawShared.cpuUsPerMsg,
        );
      if (rawWithId)
        summary[`c${concurrency}.cpuPublishVsRawWithMessageId`] = round(
          lib.cpuUsPerMsg / rawWithId.cpuUsPerMsg,
        );
    }
    console.log('');
    for (const v of selected) {
      const res = row.get(v.name)!;
      const runs = rounds.get(v.name) ?? [];
      rows.push({
        implementation: v.name,
        concurrency,
        ours: v.name === 'publish()' || v.name === 'withChannel()',
        metrics: {
          msgsPerSec: round(res.rate, 1),
          p50Ms: round(res.p50),
          p99Ms: round(res.p99),
          cpuUsPerMsg: round(res.cpuUsPerMsg, 2),
        },
        ...(bestRaw ? { ratios: { vsBestRaw: round(res.rate / bestRaw.rate) } } : {}),
        samples: { msgsPerSec: runs.map((r) => round(r.rate, 1)) },
      });
    }
  }
  await adminConn.close();
  const file = await writeBenchResults({
    bench: 'rabbitmq',
    title: 'RabbitMQ: confirmed publishes of persistent 256-byte messages',
    settings: {
      messages: MESSAGES,
      rounds: ROUNDS,
      concurrency: CONCURRENCY.join(','),
      variants: selected.map((v) => v.name).join(','),
    },
    units: { msgsPerSec: 'msgs/s', p50Ms: 'ms', p99Ms: 'ms', cpuUsPerMsg: 'µs CPU/msg' },
    rows,
    summary,
    charts: [
      {
        id: 'rabbitmq',
        title: 'RabbitMQ: confirmed publishes per second (persistent, 256 B)',
        metric: 'msgsPerSec',
        higherIsBetter: true,
      },
    ],
  });
  console.log(`results: ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

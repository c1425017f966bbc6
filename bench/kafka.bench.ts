/**
 * Kafka producing, side by side in one run against the real broker (`KAFKA_BROKERS`, default 127.0.0.1:9092):
 *
 * 1. `send()` of 256-byte records with acks -1 at concurrency 1, 16 and 256:
 *    - raw kafkajs: idempotent producers (`idempotent: true`, acks -1), `producer.send()` directly; two
 *      identical ones (#1, #2) so their ratio (A/A control) shows the machine's noise floor;
 *    - this library: `KafkaPool.send()` (one shared idempotent producer + deadline + typed errors + metrics hook).
 *    Same client, same producer settings: the ratio to the mean of the raw producers is the library's
 *    overhead; target >= 0.95x everywhere. Then the library's own cost per send is measured without a
 *    network (in-memory driver).
 * 2. `withTransaction()` (one 256-byte record per transaction, 16 callers) with pool sizes 1, 4, 8, and
 *    raw kafkajs with one transactional producer used sequentially as the reference.
 *
 * Run: `node --import tsx bench/kafka.bench.ts` (npm run bench:kafka).
 * Env: BENCH_SLICES (default 16) x BENCH_SLICE_MS (default 400) per implementation and concurrency, run
 * in alternating slices; BENCH_TX_SECONDS (default 5) per transaction setup; KAFKA_BROKERS.
 * Also writes bench/results/kafka.json (drawn by `npx tsx scripts/bench-chart.ts`).
 */
import { randomBytes } from 'node:crypto';
import kafkajs from 'kafkajs';
import { KafkaPool, type KafkaDriverFactory } from '../lib/kafka/index.js';
import { type BenchRow, round, writeBenchResults } from './bench-results.js';

const { Kafka, Partitioners, logLevel } = kafkajs;
const SLICES = Number(process.env.BENCH_SLICES ?? 16);
const SLICE_MS = Number(process.env.BENCH_SLICE_MS ?? 400);
const TX_SECONDS = Number(process.env.BENCH_TX_SECONDS ?? 5);
const BROKERS = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim());
const CONCURRENCIES = [1, 16, 256] as const;
const TX_POOL_SIZES = [1, 4, 8] as const;
const TX_CALLERS = 16;
const VALUE = randomBytes(128).toString('hex'); // 256 bytes

interface Run {
  ops: number;
  seconds: number;
  rate: number;
  p50: number;
  p99: number;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
}

/** Latencies of one implementation, accumulated over its slices. */
class Samples {
  readonly latencies: number[] = [];
  seconds = 0;

  summary(): Run {
    const sorted = Float64Array.from(this.latencies).sort();
    const ops = this.latencies.length;
    return {
      ops,
      seconds: this.seconds,
      rate: ops / this.seconds,
      p50: percentile(sorted, 0.5),
      p99: percentile(sorted, 0.99),
    };
  }
}

/** `concurrency` workers call `op` back to back for `ms`; each op's latency goes to `into`. */
async function slice(
  ms: number,
  concurrency: number,
  op: () => Promise<unknown>,
  into: Samples,
): Promise<void> {
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        await op();
        into.latencies.push(performance.now() - t);
      }
    }),
  );
  into.seconds += (performance.now() - start) / 1000;
}

/**
 * The implementations in alternating short slices (A B C, C B A, …) so all see the same machine
 * and broker load; on a shared box, back-to-back multi-second runs of one then the other differ by
 * ±30%. Returns one summary per implementation, in order.
 */
async function compare(concurrency: number, ops: (() => Promise<unknown>)[]): Promise<Run[]> {
  const samples = ops.map(() => new Samples());
  const order = ops.map((_, i) => i);
  for (let round = 0; round < SLICES; round++) {
    for (const i of round % 2 === 0 ? order : [...order].reverse()) {
      await slice(SLICE_MS, concurrency, ops[i] as () => Promise<unknown>, samples[i] as Samples);
    }
  }
  return samples.map((s) => s.summary());
}

async function timed(
  seconds: number,
  concurrency: number,
  op: () => Promise<unknown>,
): Promise<Run> {
  const s = new Samples();
  await slice(seconds * 1000, concurrency, op, s);
  return s.summary();
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function main(): Promise<void> {
  const kafka = new Kafka({ brokers: BROKERS, clientId: 'bench-raw', logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const topic = `bench-kafka-${Date.now().toString(36)}`;
  const txTopic = `${topic}-tx`;
  await admin.createTopics({
    topics: [
      { topic, numPartitions: 3 },
      { topic: txTopic, numPartitions: 3 },
    ],
    waitForLeaders: true,
  });

  const raw = kafka.producer({
    idempotent: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await raw.connect();
  // A second, identical raw producer: the A/A control that shows this machine's noise floor.
  const raw2 = new Kafka({
    brokers: BROKERS,
    clientId: 'bench-raw-2',
    logLevel: logLevel.NOTHING,
  }).producer({
    idempotent: true,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  await raw2.connect();
  const pool = new KafkaPool(
    { brokers: BROKERS, clientId: 'bench-lib', logLevel: 'warn' },
    { name: 'bench' },
  );
  await pool.start();

  const record = { topic, acks: -1, messages: [{ value: VALUE }] };
  const rawSend = () => raw.send(record);
  const raw2Send = () => raw2.send(record);
  const libSend = () => pool.send(record);

  // Warm-up: connections, metadata, JIT.
  await timed(1, 16, rawSend);
  await timed(1, 16, libSend);

  const sendRows: { concurrency: number; raw: Run; raw2: Run; lib: Run }[] = [];
  for (const concurrency of CONCURRENCIES) {
    const [r, r2, l] = await compare(concurrency, [rawSend, raw2Send, libSend]);
    sendRows.push({ concurrency, raw: r as Run, raw2: r2 as Run, lib: l as Run });
    process.stderr.write(`send c=${concurrency} done\n`);
  }

  // Transactions.
  const txRows: { label: string; run: Run }[] = [];
  const txRecord = { topic: txTopic, messages: [{ value: VALUE }] };
  // Raw references: one transactional producer, one caller; kafkajs's default retry (first retry of
  // CONCURRENT_TRANSACTIONS after ~300 ms) and the library's 20 ms first retry.
  for (const [label, initialRetryTime] of [
    ['raw kafkajs, 1 transactional producer, 1 caller, default retry', undefined],
    ['raw kafkajs, 1 transactional producer, 1 caller, 20 ms first retry', 20],
  ] as const) {
    const rawTx = kafka.producer({
      transactionalId: `bench-raw-tx-${topic}-${initialRetryTime ?? 'default'}`,
      createPartitioner: Partitioners.DefaultPartitioner,
      ...(initialRetryTime ? { retry: { initialRetryTime, retries: 8 } } : {}),
    });
    await rawTx.connect();
    const rawTransaction = async () => {
      const tx = await rawTx.transaction();
      await tx.send(txRecord);
      await tx.commit();
    };
    await timed(1, 1, rawTransaction);
    txRows.push({ label, run: await timed(TX_SECONDS, 1, rawTransaction) });
    await rawTx.disconnect();
  }

  for (const size of TX_POOL_SIZES) {
    const txPool = new KafkaPool(
      {
        brokers: BROKERS,
        clientId: 'bench-lib-tx',
        logLevel: 'warn',
        transactions: {
          transactionalIdPrefix: `bench-lib-tx-${topic}-${size}`,
          maxProducers: size,
          minProducers: size,
        },
      },
      { name: `bench-tx-${size}` },
    );
    await txPool.start();
    const libTransaction = () => txPool.withTransaction((tx) => tx.send(txRecord));
    await timed(1, TX_CALLERS, libTransaction);
    txRows.push({
      label: `KafkaPool.withTransaction, pool ${size}, ${TX_CALLERS} callers`,
      run: await timed(TX_SECONDS, TX_CALLERS, libTransaction),
    });
    await txPool.close();
    process.stderr.write(`tx pool ${size} done\n`);
  }

  await pool.close();
  await raw.disconnect();
  await raw2.disconnect();
  await admin.deleteTopics({ topics: [topic, txTopic] }).catch(() => undefined);
  await admin.disconnect();

  const cluster = `Kafka at ${BROKERS.join(',')}, kafkajs 2.2.4, Node ${process.version}, ${SLICES} x ${SLICE_MS} ms alternating slices per implementation`;
  console.log(`\n## send(): 256-byte records, acks -1, one idempotent producer (${cluster})\n`);
  console.log(
    '| concurrency | raw #1 rec/s | raw #2 rec/s | KafkaPool rec/s | KafkaPool / mean(raw) | A/A noise: raw #2 / raw #1 | raw #1 p50 / p99 ms | KafkaPool p50 / p99 ms |',
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const { concurrency, raw: r, raw2: r2, lib: l } of sendRows) {
    const rawMean = (r.rate + r2.rate) / 2;
    console.log(
      `| ${concurrency} | ${fmt(r.rate)} | ${fmt(r2.rate)} | ${fmt(l.rate)} | ${fmt(l.rate / rawMean, 2)}x | ${fmt(r2.rate / r.rate, 2)}x | ${fmt(r.p50, 2)} / ${fmt(r.p99, 2)} | ${fmt(l.p50, 2)} / ${fmt(l.p99, 2)} |`,
    );
  }
  const overhead = await sendOverhead();
  console.log(
    `\nLibrary cost per send() measured without network (in-memory driver, ${fmt(OVERHEAD_OPS)} sends, concurrency 16): ` +
      `KafkaPool.send ${fmt(overhead.pool, 2)} µs vs the bare producer call ${fmt(overhead.direct, 2)} µs ` +
      `(+${fmt(overhead.pool - overhead.direct, 2)} µs per record: deadline timer, typed errors, metrics, stats).`,
  );
  console.log(`\n## withTransaction(): one 256-byte record per transaction\n`);
  console.log('| setup | tx/s | p50 / p99 ms |');
  console.log('|---|---:|---:|');
  for (const { label, run } of txRows)
    console.log(`| ${label} | ${fmt(run.rate)} | ${fmt(run.p50, 2)} / ${fmt(run.p99, 2)} |`);

  const runMetrics = (r: Run) => ({
    perSec: round(r.rate, 1),
    p50Ms: round(r.p50),
    p99Ms: round(r.p99),
    ops: r.ops,
  });
  const rows: BenchRow[] = [];
  for (const { concurrency, raw: r, raw2: r2, lib: l } of sendRows) {
    const rawMean = (r.rate + r2.rate) / 2;
    rows.push(
      {
        implementation: 'raw kafkajs #1',
        concurrency,
        scenario: 'send',
        ours: false,
        metrics: runMetrics(r),
      },
      {
        implementation: 'raw kafkajs #2',
        concurrency,
        scenario: 'send',
        ours: false,
        metrics: runMetrics(r2),
        ratios: { vsRaw1: round(r2.rate / r.rate) },
      },
      {
        implementation: 'KafkaPool.send()',
        concurrency,
        scenario: 'send',
        ours: true,
        metrics: runMetrics(l),
        ratios: { vsMeanRaw: round(l.rate / rawMean) },
      },
    );
  }
  for (const { label, run } of txRows) {
    rows.push({
      implementation: label,
      concurrency: label.startsWith('raw') ? 1 : TX_CALLERS,
      scenario: 'transaction',
      ours: !label.startsWith('raw'),
      metrics: runMetrics(run),
    });
  }
  const file = await writeBenchResults({
    bench: 'kafka',
    title: 'Kafka: send() and withTransaction()',
    settings: {
      slices: SLICES,
      sliceMs: SLICE_MS,
      txSeconds: TX_SECONDS,
      txCallers: TX_CALLERS,
      brokers: BROKERS.length,
    },
    units: { perSec: 'records/s (send) or tx/s', p50Ms: 'ms', p99Ms: 'ms', ops: 'operations' },
    rows,
    summary: {
      overheadUsPerSend: round(overhead.pool - overhead.direct),
    },
    charts: [
      {
        id: 'kafka-send',
        title: 'Kafka send(): acknowledged records per second (acks -1, 256 B)',
        metric: 'perSec',
        higherIsBetter: true,
        scenario: 'send',
      },
      {
        id: 'kafka-transactions',
        title: 'Kafka transactions per second (1 record each)',
        metric: 'perSec',
        higherIsBetter: true,
        scenario: 'transaction',
        singleGroup: `KafkaPool: ${TX_CALLERS} callers; raw kafkajs: 1 caller`,
      },
    ],
  });
  console.log(`\nresults: ${file}`);
}

const OVERHEAD_OPS = 500_000;

/**
 * What the library adds per send, isolated from the broker: the same producer reached through
 * KafkaPool.send() and directly, over an in-memory driver whose send resolves at once.
 */
async function sendOverhead(): Promise<{ pool: number; direct: number }> {
  const metadata = [{ topicName: 't', partition: 0, errorCode: 0 }];
  const producer = {
    connect: async () => undefined,
    disconnect: async () => undefined,
    send: () => Promise.resolve(metadata),
    sendBatch: () => Promise.resolve(metadata),
    beginTransaction: () => Promise.reject(new Error('not used')),
  };
  const driver: KafkaDriverFactory = () => ({
    name: 'in-memory',
    producer: () => producer,
    consumer: () => {
      throw new Error('not used');
    },
    admin: () => {
      throw new Error('not used');
    },
    classifyError: () => 'unknown',
  });
  const pool = new KafkaPool({ brokers: ['in-memory:1'] }, { driver });
  await pool.start();
  const record = { topic: 't', messages: [{ value: VALUE }] };
  const perOp = async (op: () => Promise<unknown>): Promise<number> => {
    let left = OVERHEAD_OPS;
    const t = performance.now();
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (left-- > 0) await op();
      }),
    );
    return ((performance.now() - t) * 1000) / OVERHEAD_OPS;
  };
  const result = { pool: Infinity, direct: Infinity };
  for (let round = 0; round < 3; round++) {
    result.direct = Math.min(result.direct, await perOp(() => producer.send()));
    result.pool = Math.min(result.pool, await perOp(() => pool.send(record)));
  }
  await pool.close();
  return result;
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);

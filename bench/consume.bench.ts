/**
 * Declarative consuming and RPC, side by side, in one run (issue #20):
 *   consume   msgs/s draining a prefilled queue of persistent ~256-byte JSON messages, one handler,
 *             the same prefetch, an ack per message:
 *               - raw amqplib                  a channel, JSON.parse, ack (bench/consume-side.ts)
 *               - pool.subscribe()             this library's handler API, defaults
 *               - @RabbitSubscribe (ours)      the same through the decorator in a Nest 12 app
 *                                              (MqPoolModule.forRoot defaults, bench/decorated-side.ts)
 *               - golevelup @RabbitSubscribe   @golevelup/nestjs-rabbitmq 9 in a Nest 11 app
 *   request   round-trip p50/p99 (and requests/s) of N callers each awaiting one request at a time,
 *             against one raw amqplib responder in this process (direct reply-to, the same for both):
 *               - pool.request()
 *               - golevelup request()          AmqpConnection.request()
 * Every measured run is a fresh child process (bench/consume-side.ts, bench/decorated-side.ts,
 * bench/golevelup/golevelup-side.ts) reporting JSON, so no subject inherits another's JIT, heap or
 * connections; this process prefills the queues, serves the requests and prints one table with the
 * ratios the targets are stated in (the decorated handler ≥ 0.9× raw and ≥ 1.0× golevelup; also
 * pool.subscribe()/raw). golevelup needs Nest 11 (the project is on
 * Nest 12): it lives in bench/golevelup/, installed here with `npm ci --prefix bench/golevelup` when
 * missing or stale.
 *
 * Run: `npm run bench:consume`
 * Env: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672), BENCH_MESSAGES (measured per consume
 *      run, default 20000), BENCH_WARMUP (consumed or requested before measuring, default 5000 / 1000),
 *      BENCH_PREFETCH (default 50), BENCH_REQUESTS (measured per request run, default 5000),
 *      BENCH_CONCURRENCY (request callers, default "1,64"), BENCH_ROUNDS (default 3, order rotated per
 *      round, each metric's median reported), BENCH_SUBJECTS (subset of raw,ours,decorated,golevelup),
 *      BENCH_SCENARIOS (subset of consume,request), BENCH_TRACE=1 (print every run's figures).
 * Also writes bench/results/consume.json (drawn by `npm run bench:chart`).
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import amqp from 'amqplib';
import type { Channel, ChannelModel } from 'amqplib';

import { RabbitMqPool } from '../lib/rabbitmq/index.js';
import { type BenchRow, round, writeBenchResults } from './bench-results.js';
import {
  type BenchJob,
  type BenchPayload,
  type ConsumeFigures,
  type RequestFigures,
  RESULT_PREFIX,
} from './consume-jobs.js';
import { medianResult } from './publish-runner.js';

const AMQP_URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 20_000);
const PREFETCH = Number(process.env.BENCH_PREFETCH ?? 50);
const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 5_000);
const CONSUME_WARMUP = Number(process.env.BENCH_WARMUP ?? 5_000);
const REQUEST_WARMUP = Number(process.env.BENCH_WARMUP ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = (process.env.BENCH_CONCURRENCY ?? '1,64').split(',').map(Number);
const SUBJECTS = (process.env.BENCH_SUBJECTS ?? 'raw,ours,decorated,golevelup')
  .split(',')
  .map((s) => s.trim());
const SCENARIOS = (process.env.BENCH_SCENARIOS ?? 'consume,request')
  .split(',')
  .map((s) => s.trim());
const RUN_TIMEOUT_MS = 120_000;

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const GOLEVELUP_DIR = join(ROOT, 'bench', 'golevelup');
const BODY = 'b'.repeat(230);

type Subject = 'raw' | 'ours' | 'decorated' | 'golevelup';

interface SubjectSpec {
  readonly subject: Subject;
  readonly label: string;
  readonly script: string;
}

const CONSUMERS: readonly SubjectSpec[] = [
  { subject: 'raw', label: 'raw amqplib', script: 'bench/consume-side.ts' },
  { subject: 'ours', label: 'pool.subscribe()', script: 'bench/consume-side.ts' },
  { subject: 'decorated', label: '@RabbitSubscribe (ours)', script: 'bench/decorated-side.ts' },
  {
    subject: 'golevelup',
    label: 'golevelup @RabbitSubscribe',
    script: 'bench/golevelup/golevelup-side.ts',
  },
];
const REQUESTERS: readonly SubjectSpec[] = [
  { subject: 'ours', label: 'pool.request()', script: 'bench/consume-side.ts' },
  {
    subject: 'golevelup',
    label: 'golevelup request()',
    script: 'bench/golevelup/golevelup-side.ts',
  },
];

/** `npm ci` in bench/golevelup when its node_modules is missing or from another lock file. */
function installGolevelup(): void {
  const stamp = join(GOLEVELUP_DIR, 'node_modules', '.nestjs-mq-pool-deps');
  const want = createHash('sha256')
    .update(readFileSync(join(GOLEVELUP_DIR, 'package.json')))
    .update(readFileSync(join(GOLEVELUP_DIR, 'package-lock.json')))
    .digest('hex');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === want) return;
  console.log('bench/golevelup: npm ci (@golevelup/nestjs-rabbitmq with Nest 11, bench only)');
  const result = spawnSync(
    'npm',
    ['ci', '--prefix', GOLEVELUP_DIR, '--ignore-scripts', '--no-audit', '--no-fund'],
    { cwd: ROOT, stdio: 'inherit' },
  );
  if (result.status !== 0)
    throw new Error(`npm ci --prefix bench/golevelup failed (${String(result.status)})`);
  writeFileSync(stamp, `${want}\n`);
}

/** Runs one side in a fresh process; resolves with the figures it printed. */
function runSide<T>(spec: SubjectSpec, job: BenchJob): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', spec.script, spec.subject, JSON.stringify(job)],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS + 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith(RESULT_PREFIX));
      if (code !== 0 || line === undefined) {
        reject(new Error(`${spec.label}: side exited ${String(code)} without figures`));
        return;
      }
      resolve(JSON.parse(line.slice(RESULT_PREFIX.length)) as T);
    });
  });
}

const uniqueQueue = (what: string): string => `bench-${what}-${randomBytes(4).toString('hex')}`;

/** Publishes `count` persistent JSON messages with confirms, pipelined, respecting back-pressure. */
async function prefill(conn: ChannelModel, queue: string, count: number): Promise<void> {
  const ch = await conn.createConfirmChannel();
  for (let id = 0; id < count; id++) {
    const payload: BenchPayload = { id, body: BODY };
    const written = ch.sendToQueue(queue, Buffer.from(JSON.stringify(payload)), {
      persistent: true,
      contentType: 'application/json',
      messageId: `m-${id}`,
    });
    if (!written) await new Promise((resolve) => ch.once('drain', resolve));
  }
  await ch.waitForConfirms();
  await ch.close();
}

/**
 * Declares the consume queue as the subject would: `pool.subscribe()` may add arguments (its
 * dead-letter target), so it declares the queue itself (attached and cancelled while empty), with
 * the options the decorated handler passes it too; the others get a plain durable queue, which
 * golevelup's `queueOptions: { durable: true }` matches.
 */
async function declareConsumeQueue(subject: Subject, admin: Channel, queue: string): Promise<void> {
  if (subject !== 'ours' && subject !== 'decorated') {
    await admin.assertQueue(queue, { durable: true });
    return;
  }
  const pool = new RabbitMqPool({ url: AMQP_URL }, { name: 'bench-declare' });
  await pool.start();
  try {
    const subscription = await pool.subscribe({ queue, prefetch: PREFETCH }, async () => {
      throw new Error('the queue is empty while it is declared');
    });
    await subscription.cancel();
  } finally {
    await pool.close();
  }
}

async function consumeRun(
  spec: SubjectSpec,
  conn: ChannelModel,
  admin: Channel,
): Promise<ConsumeFigures> {
  const queue = uniqueQueue(`consume-${spec.subject}`);
  try {
    await declareConsumeQueue(spec.subject, admin, queue);
    await prefill(conn, queue, CONSUME_WARMUP + MESSAGES);
    return await runSide<ConsumeFigures>(spec, {
      kind: 'consume',
      url: AMQP_URL,
      queue,
      prefetch: PREFETCH,
      warmup: CONSUME_WARMUP,
      messages: MESSAGES,
      timeoutMs: RUN_TIMEOUT_MS,
    });
  } finally {
    await admin.deleteQueue(queue).catch(() => undefined);
    await admin.deleteQueue(`${queue}.dlq`).catch(() => undefined);
  }
}

/**
 * The responder both requesters talk to: an echo with the status header pool.request() reads. Its
 * own connection without Nagle's algorithm, so no reply waits in its socket for either client.
 */
async function startResponder(): Promise<{ queue: string; stop(): Promise<void> }> {
  const queue = uniqueQueue('rpc');
  const conn = await amqp.connect(AMQP_URL, { noDelay: true });
  const ch = await conn.createChannel();
  await ch.assertQueue(queue, { durable: false, autoDelete: true });
  await ch.prefetch(256);
  await ch.consume(queue, (msg) => {
    if (!msg) return;
    ch.sendToQueue(msg.properties.replyTo as string, msg.content, {
      correlationId: msg.properties.correlationId as string,
      contentType: 'application/json',
      headers: { 'x-mq-rpc-status': 'ok' },
    });
    ch.ack(msg);
  });
  return { queue, stop: () => conn.close() };
}

function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
}

const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Each round runs every subject once, in an order rotated per round. */
async function rounds<T>(
  specs: readonly SubjectSpec[],
  run: (spec: SubjectSpec) => Promise<T>,
  trace: (spec: SubjectSpec, figures: T) => string,
): Promise<Map<SubjectSpec, T[]>> {
  const results = new Map<SubjectSpec, T[]>(specs.map((s) => [s, []]));
  for (let r = 0; r < ROUNDS; r++) {
    for (let i = 0; i < specs.length; i++) {
      const spec = specs[(i + r) % specs.length] as SubjectSpec;
      const figures = await run(spec);
      results.get(spec)?.push(figures);
      if (process.env.BENCH_TRACE) console.log(`  r${r} ${spec.label}: ${trace(spec, figures)}`);
    }
  }
  return results;
}

async function main(): Promise<void> {
  const consumers = CONSUMERS.filter((s) => SUBJECTS.includes(s.subject));
  const requesters = REQUESTERS.filter((s) => SUBJECTS.includes(s.subject));
  if (SUBJECTS.includes('golevelup')) installGolevelup();
  const conn = await amqp.connect(AMQP_URL);
  const admin = await conn.createChannel();
  const rows: BenchRow[] = [];
  const summary: Record<string, number> = {};
  console.log(
    `RabbitMQ declarative consume + RPC bench: ${ROUNDS} round(s) (per-metric median), Node ${process.version}\n`,
  );

  if (SCENARIOS.includes('consume') && consumers.length > 0) {
    console.log(
      `consume: ${fmt(MESSAGES)} persistent JSON messages measured after ${fmt(CONSUME_WARMUP)}, prefetch ${PREFETCH}, ack per message`,
    );
    const results = await rounds(
      consumers,
      (spec) => consumeRun(spec, conn, admin),
      (_, f) => `${fmt(f.msgsPerSec)} msgs/s ${fmt(f.cpuUsPerMsg, 1)} µs CPU/msg`,
    );
    const medians = new Map(
      [...results].map(([spec, runs]) => [
        spec.subject,
        {
          spec,
          runs,
          msgsPerSec: median(runs.map((r) => r.msgsPerSec)),
          cpuUsPerMsg: median(runs.map((r) => r.cpuUsPerMsg)),
        },
      ]),
    );
    console.log(`  ${'subject'.padEnd(28)} ${'msgs/s'.padStart(9)} ${'CPU µs/msg'.padStart(11)}`);
    for (const m of medians.values()) {
      console.log(
        `  ${m.spec.label.padEnd(28)} ${fmt(m.msgsPerSec).padStart(9)} ${fmt(m.cpuUsPerMsg, 1).padStart(11)}`,
      );
    }
    const ours = medians.get('ours');
    const decorated = medians.get('decorated');
    const raw = medians.get('raw');
    const golevelup = medians.get('golevelup');
    const parts: string[] = [];
    if (decorated && raw) {
      summary['consume.decoratedVsRaw'] = round(decorated.msgsPerSec / raw.msgsPerSec);
      summary['consume.cpuDecoratedVsRaw'] = round(decorated.cpuUsPerMsg / raw.cpuUsPerMsg);
      parts.push(
        `@RabbitSubscribe/raw = ${fmt(decorated.msgsPerSec / raw.msgsPerSec, 2)}x (target >= 0.9), ` +
          `CPU ${fmt(decorated.cpuUsPerMsg / raw.cpuUsPerMsg, 2)}x`,
      );
    }
    if (decorated && golevelup) {
      summary['consume.decoratedVsGolevelup'] = round(decorated.msgsPerSec / golevelup.msgsPerSec);
      parts.push(
        `@RabbitSubscribe/golevelup = ${fmt(decorated.msgsPerSec / golevelup.msgsPerSec, 2)}x (target >= 1.0), ` +
          `CPU ${fmt(decorated.cpuUsPerMsg / golevelup.cpuUsPerMsg, 2)}x`,
      );
    }
    if (ours && raw) {
      summary['consume.oursVsRaw'] = round(ours.msgsPerSec / raw.msgsPerSec);
      summary['consume.cpuOursVsRaw'] = round(ours.cpuUsPerMsg / raw.cpuUsPerMsg);
      parts.push(
        `pool.subscribe()/raw = ${fmt(ours.msgsPerSec / raw.msgsPerSec, 2)}x, ` +
          `CPU ${fmt(ours.cpuUsPerMsg / raw.cpuUsPerMsg, 2)}x`,
      );
    }
    if (ours && golevelup) {
      summary['consume.oursVsGolevelup'] = round(ours.msgsPerSec / golevelup.msgsPerSec);
      parts.push(
        `pool.subscribe()/golevelup = ${fmt(ours.msgsPerSec / golevelup.msgsPerSec, 2)}x, ` +
          `CPU ${fmt(ours.cpuUsPerMsg / golevelup.cpuUsPerMsg, 2)}x`,
      );
    }
    if (raw && golevelup)
      parts.push(`golevelup/raw = ${fmt(golevelup.msgsPerSec / raw.msgsPerSec, 2)}x`);
    if (parts.length > 0) console.log(`  ${parts.join(';\n  ')}`);
    console.log('');
    for (const m of medians.values()) {
      rows.push({
        implementation: m.spec.label,
        scenario: 'consume',
        concurrency: PREFETCH,
        ours: m.spec.subject === 'ours' || m.spec.subject === 'decorated',
        metrics: { msgsPerSec: round(m.msgsPerSec, 1), cpuUsPerMsg: round(m.cpuUsPerMsg, 2) },
        ...(raw ? { ratios: { vsRaw: round(m.msgsPerSec / raw.msgsPerSec) } } : {}),
        samples: { msgsPerSec: m.runs.map((r) => round(r.msgsPerSec, 1)) },
      });
    }
  }

  if (SCENARIOS.includes('request') && requesters.length > 0) {
    const responder = await startResponder();
    try {
      for (const concurrency of CONCURRENCY) {
        console.log(
          `request: ${fmt(REQUESTS)} round trips measured after 2 x ${fmt(REQUEST_WARMUP)}, concurrency ${concurrency}`,
        );
        const results = await rounds(
          requesters,
          (spec) =>
            runSide<RequestFigures>(spec, {
              kind: 'request',
              url: AMQP_URL,
              queue: responder.queue,
              concurrency,
              warmup: REQUEST_WARMUP,
              requests: REQUESTS,
              timeoutMs: 10_000,
            }),
          (_, f) => `${fmt(f.rate)} req/s p50 ${fmt(f.p50, 2)} ms p99 ${fmt(f.p99, 2)} ms`,
        );
        console.log(
          `  ${'subject'.padEnd(28)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'CPU µs/req'.padStart(11)}`,
        );
        const medians = new Map(
          [...results].map(([spec, runs]) => [spec.subject, { spec, runs, ...medianResult(runs) }]),
        );
        for (const m of medians.values()) {
          console.log(
            `  ${m.spec.label.padEnd(28)} ${fmt(m.rate).padStart(9)} ${fmt(m.p50, 2).padStart(8)} ${fmt(m.p99, 2).padStart(8)} ${fmt(m.cpuUsPerMsg, 1).padStart(11)}`,
          );
        }
        const ours = medians.get('ours');
        const golevelup = medians.get('golevelup');
        if (ours && golevelup) {
          summary[`request.c${concurrency}.p50OursVsGolevelup`] = round(ours.p50 / golevelup.p50);
          summary[`request.c${concurrency}.p99OursVsGolevelup`] = round(ours.p99 / golevelup.p99);
          console.log(
            `  pool.request()/golevelup latency: p50 ${fmt(ours.p50 / golevelup.p50, 2)}x, ` +
              `p99 ${fmt(ours.p99 / golevelup.p99, 2)}x (lower is better); ` +
              `throughput ${fmt(ours.rate / golevelup.rate, 2)}x`,
          );
        }
        console.log('');
        for (const m of medians.values()) {
          rows.push({
            implementation: m.spec.label,
            scenario: 'request',
            concurrency,
            ours: m.spec.subject === 'ours',
            metrics: {
              requestsPerSec: round(m.rate, 1),
              p50Ms: round(m.p50),
              p99Ms: round(m.p99),
              cpuUsPerRequest: round(m.cpuUsPerMsg, 2),
            },
            samples: {
              p50Ms: m.runs.map((r) => round(r.p50)),
              p99Ms: m.runs.map((r) => round(r.p99)),
            },
          });
        }
      }
    } finally {
      await responder.stop();
    }
  }
  await conn.close();

  const file = await writeBenchResults({
    bench: 'consume',
    title: 'RabbitMQ: declarative consume and request/reply',
    settings: {
      messages: MESSAGES,
      consumeWarmup: CONSUME_WARMUP,
      prefetch: PREFETCH,
      requests: REQUESTS,
      requestWarmup: REQUEST_WARMUP,
      concurrency: CONCURRENCY.join(','),
      rounds: ROUNDS,
      subjects: SUBJECTS.join(','),
      scenarios: SCENARIOS.join(','),
    },
    units: {
      msgsPerSec: 'msgs/s',
      cpuUsPerMsg: 'µs CPU/msg',
      requestsPerSec: 'requests/s',
      p50Ms: 'ms',
      p99Ms: 'ms',
      cpuUsPerRequest: 'µs CPU/request',
    },
    rows,
    summary,
    charts: [
      {
        id: 'consume',
        title: `RabbitMQ: messages consumed per second (prefetch ${PREFETCH}, ack per message)`,
        metric: 'msgsPerSec',
        higherIsBetter: true,
        scenario: 'consume',
      },
      {
        id: 'request-p99',
        title: 'RabbitMQ: request/reply round trip, p99 (direct reply-to)',
        metric: 'p99Ms',
        higherIsBetter: false,
        scenario: 'request',
      },
    ],
  });
  console.log(`results: ${file}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

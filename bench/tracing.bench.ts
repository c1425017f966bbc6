/**
 * What tracing costs on the publish path (issue 9): persistent 256-byte confirmed publishes to a
 * durable queue through `publish()` at concurrency 16 (BENCH_CONCURRENCY), variants in one run:
 *   - baseline (<ref>)     the library as of git <ref> (default HEAD), i.e. without this tracing code,
 *                          extracted with `git archive` into a temp dir (skipped if that fails)
 *   - no SDK               this code, `@opentelemetry/api` installed but no SDK registered
 *   - context manager only the SDK's AsyncLocalStorage context manager and no tracer provider: the
 *                          part of "SDK registered" that is the SDK's own (no library span is made)
 *   - SDK registered       NodeTracerProvider + BatchSpanProcessor (spans dropped by the exporter),
 *                          W3C propagator: a span and a traceparent header per publish
 * Reported per variant (median of BENCH_ROUNDS rounds, order rotated): msgs/s, p50/p99 latency,
 * client CPU µs per message; and the ratios vs the baseline / vs no SDK.
 *
 * The broker run is noisy on a shared machine, so the no-SDK hot-path cost is also measured in
 * isolation, without a broker: `activeTracer()` (the one check each publish adds when no SDK is
 * registered) in ns per call, compared with publish()'s CPU per message.
 *
 * Run: `npm run bench:tracing` (`node --import tsx bench/tracing.bench.ts`)
 * Env: AMQP_URL, BENCH_MESSAGES (default 10000), BENCH_ROUNDS (default 3), BENCH_CONCURRENCY
 *      (default 16), BENCH_BASELINE_REF (default HEAD; "none" skips the baseline).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { context, propagation, trace } from '@opentelemetry/api';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-node';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import amqp, { type ConfirmChannel } from 'amqplib';

import { RabbitMqPool } from '../lib/rabbitmq/index.js';
import { PublishTrace } from '../lib/rabbitmq/publish-trace.js';
import { activeTracer, type Tracer } from '../lib/telemetry/index.js';
import { measure, medianResult, type Result, type Variant } from './publish-runner.js';

const AMQP = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 16);
const BASELINE_REF = process.env.BENCH_BASELINE_REF ?? 'HEAD';
const WARMUP = 500;
const BODY = randomBytes(256);
const ROOT = fileURLToPath(new URL('../', import.meta.url));

type PoolCtor = typeof RabbitMqPool;

/** Drops every span (the cost measured is the library's and the SDK's, not an exporter's I/O). */
const DROP: SpanExporter = {
  export(_spans: ReadableSpan[], done) {
    done({ code: 0 });
  },
  shutdown: () => Promise.resolve(),
};

type Otel = 'none' | 'context-only' | 'sdk';

function poolVariant(name: string, Pool: PoolCtor, otel: Otel): Variant {
  return {
    name,
    async setup(queue) {
      let provider: NodeTracerProvider | undefined;
      if (otel === 'sdk') {
        provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(DROP)] });
        provider.register();
      } else if (otel === 'context-only') {
        context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
      }
      const pool = new Pool({ url: AMQP, channelsPerConnection: 8 }, { name: 'bench-tracing' });
      await pool.start();
      return {
        publish: () => pool.sendToQueue(queue, BODY),
        async close() {
          await pool.close();
          await provider?.shutdown();
          trace.disable();
          propagation.disable();
          context.disable();
        },
      };
    },
  };
}

/** The library at `ref`, from `git archive` (read-only), importable with node_modules linked. */
async function baselinePool(
  ref: string,
): Promise<{ Pool: PoolCtor; cleanup: () => void } | undefined> {
  if (ref === 'none') return undefined;
  const dir = mkdtempSync(join(tmpdir(), 'mq-pool-baseline-'));
  try {
    const tar = execFileSync('git', ['-C', ROOT, 'archive', ref, 'lib', 'package.json']);
    execFileSync('tar', ['-x', '-C', dir], { input: tar });
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    cpSync(join(ROOT, 'tsconfig.json'), join(dir, 'tsconfig.json'));
    const mod = (await import(pathToFileURL(join(dir, 'lib/rabbitmq/index.ts')).href)) as {
      RabbitMqPool: PoolCtor;
    };
    return { Pool: mod.RabbitMqPool, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  } catch (error) {
    console.warn(`baseline at ${ref} unavailable (${(error as Error).message}); skipped`);
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

async function runOnce(variant: Variant, admin: amqp.Channel): Promise<Result> {
  const queue = `bench-tracing-${randomBytes(4).toString('hex')}`;
  await admin.assertQueue(queue, { durable: true });
  const p = await variant.setup(queue);
  try {
    return await measure(p, CONCURRENCY, WARMUP, MESSAGES);
  } finally {
    await p.close().catch(() => undefined);
    await admin.deleteQueue(queue).catch(() => undefined);
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

/** ns per `activeTracer()` call with no SDK registered: the whole per-publish cost of tracing when off. */
function isolatedCheckNs(): number {
  const N = 20_000_000;
  let hits = 0;
  for (let i = 0; i < 1_000_000; i++) if (activeTracer() !== undefined) hits++; // warm-up / JIT
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) if (activeTracer() !== undefined) hits++;
  const ns = Number(process.hrtime.bigint() - t0) / N;
  if (hits !== 0) throw new Error('a tracer was found with no SDK registered');
  return ns;
}

/**
 * µs per publish of the library's own span work with an SDK registered, without a broker: start the
 * span, inject the header, enter its context, end it (BatchSpanProcessor, spans dropped).
 */
function tracedOpsUs(): number {
  const provider = new NodeTracerProvider({ spanProcessors: [new BatchSpanProcessor(DROP)] });
  provider.register();
  const channel = { publish: () => true } as unknown as ConfirmChannel;
  const once = (): void => {
    const t = new PublishTrace(activeTracer() as Tracer, 'bench');
    const job = {
      exchange: '',
      routingKey: 'q',
      body: BODY,
      options: { messageId: 'id', persistent: true },
      messageId: 'id',
      attempts: 0,
    };
    context.with(t.beforeWrite(job, channel), () => undefined);
    t.end(job);
  };
  for (let i = 0; i < 20_000; i++) once();
  const N = 100_000;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) once();
  const us = Number(process.hrtime.bigint() - t0) / N / 1000;
  void provider.shutdown();
  trace.disable();
  propagation.disable();
  context.disable();
  return us;
}

async function main(): Promise<void> {
  const checkNs = median([isolatedCheckNs(), isolatedCheckNs(), isolatedCheckNs()]);
  console.log(`no-SDK check (activeTracer) in isolation: ${checkNs.toFixed(1)} ns per publish`);
  console.log(
    `library span work per publish with the SDK, in isolation: ${tracedOpsUs().toFixed(2)} µs`,
  );

  const baseline = await baselinePool(BASELINE_REF);
  const variants: Variant[] = [
    ...(baseline ? [poolVariant(`baseline (${BASELINE_REF})`, baseline.Pool, 'none')] : []),
    poolVariant('no SDK', RabbitMqPool, 'none'),
    poolVariant('context manager only', RabbitMqPool, 'context-only'),
    poolVariant('SDK registered', RabbitMqPool, 'sdk'),
  ];
  const conn = await amqp.connect(AMQP);
  const admin = await conn.createChannel();
  const results = new Map<string, Result[]>(variants.map((v) => [v.name, []]));
  try {
    for (let r = 0; r < ROUNDS; r++) {
      const order = variants.map((_, i) => variants[(i + r) % variants.length] as Variant);
      for (const v of order) results.get(v.name)?.push(await runOnce(v, admin));
    }
  } finally {
    await conn.close();
    baseline?.cleanup();
  }

  const med = new Map<string, Result>();
  console.log(
    `\npublish() ${MESSAGES} msgs × ${ROUNDS} rounds, concurrency ${CONCURRENCY}, 256 B persistent, confirmed`,
  );
  console.log('variant                 msgs/s     p50 ms   p99 ms   CPU µs/msg');
  for (const v of variants) {
    const rs = results.get(v.name) ?? [];
    const m = medianResult(rs);
    med.set(v.name, m);
    console.log(
      `${v.name.padEnd(22)} ${m.rate.toFixed(0).padStart(8)} ${m.p50.toFixed(3).padStart(9)} ${m.p99.toFixed(3).padStart(8)} ${m.cpuUsPerMsg.toFixed(1).padStart(10)}   rates: ${rs.map((x) => x.rate.toFixed(0)).join(', ')}`,
    );
  }
  const off = med.get('no SDK') as Result;
  const ctxOnly = med.get('context manager only') as Result;
  const on = med.get('SDK registered') as Result;
  const base = baseline ? med.get(`baseline (${BASELINE_REF})`) : undefined;
  if (base) {
    console.log(
      `no SDK vs baseline: throughput ${pct(off.rate / base.rate)}, CPU/msg ${pct(off.cpuUsPerMsg / base.cpuUsPerMsg)}`,
    );
  }
  console.log(
    `no-SDK check vs publish() CPU: ${((checkNs / 1000 / off.cpuUsPerMsg) * 100).toFixed(3)} % of the CPU per message`,
  );
  console.log(
    `context manager only vs no SDK: throughput ${pct(ctxOnly.rate / off.rate)}, CPU/msg +${(ctxOnly.cpuUsPerMsg - off.cpuUsPerMsg).toFixed(1)} µs/msg`,
  );
  console.log(
    `SDK registered vs no SDK: throughput ${pct(on.rate / off.rate)}, CPU/msg ${pct(on.cpuUsPerMsg / off.cpuUsPerMsg)} (+${(on.cpuUsPerMsg - off.cpuUsPerMsg).toFixed(1)} µs/msg), p50 ${pct(on.p50 / off.p50)}`,
  );
}

function pct(ratio: number): string {
  const d = (ratio - 1) * 100;
  return `${d >= 0 ? '+' : ''}${d.toFixed(1)} %`;
}

await main();

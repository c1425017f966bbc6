/**
 * An HTTP route that publishes one message and awaits the broker's confirm, served three ways:
 *   (a) injected pool     the controller injects RabbitMqPool and calls withChannel()
 *   (b) interceptor       @UseInterceptors(ChannelInterceptor) + @CurrentChannel() handle.get()
 *   (c) request scope     a Scope.REQUEST provider (so its controller too) doing what (a) does
 * plus two references: (0) the same HTTP route without any broker work (the ceiling of this HTTP
 * stack) and (i) (a) behind a no-op interceptor (what any Nest interceptor costs by itself).
 * Every variant leases one exclusive confirm channel per request from the same pool. autocannon
 * runs in its own process; variants are interleaved per round and the median round is reported.
 * Target: (b) >= 0.95 x (a). (c) shows what request scope costs: Nest re-creates the provider and
 * the controller (and their dependency chain) on every request.
 *
 * Run: `node --import tsx bench/http.bench.ts` (tsx/esbuild emits no decorator metadata, so every
 * constructor dependency below, and in the library, uses an explicit @Inject()).
 * Env: AMQP_URL (default amqp://guest:guest@127.0.0.1:5672), BENCH_DURATION (s, default 8),
 *      BENCH_CONNECTIONS (default 32), BENCH_ROUNDS (default 3), BENCH_CHANNELS (pool size, default 16),
 *      BENCH_VARIANTS (subset of keys: noop,a,i,b,c; a ratio is printed when both its variants ran).
 * Also writes bench/results/http.json (drawn by `npx tsx scripts/bench-chart.ts`).
 */
import 'reflect-metadata';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';

import {
  type CallHandler,
  Controller,
  type ExecutionContext,
  HttpCode,
  Inject,
  Injectable,
  type INestApplication,
  Module,
  type NestInterceptor,
  Post,
  Scope,
  UseInterceptors,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import amqp from 'amqplib';
import type { Observable } from 'rxjs';

import {
  type ChannelHandle,
  ChannelInterceptor,
  CurrentChannel,
  MqPoolModule,
  RabbitMqPool,
} from '../lib/index.js';
import { type BenchRow, round, writeBenchResults } from './bench-results.js';

const URL = process.env.AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CHANNELS = Number(process.env.BENCH_CHANNELS ?? 16);
const QUEUE = `bench-http-${randomBytes(4).toString('hex')}`;
const BODY = randomBytes(64);
const run = promisify(execFile);
const autocannonBin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');

async function publishOn(pool: RabbitMqPool): Promise<void> {
  await pool.withChannel(async (ch) => {
    ch.sendToQueue(QUEUE, BODY);
    await ch.waitForConfirms();
  });
}

@Controller('noop')
class NoopController {
  @Post()
  @HttpCode(200)
  publish(): { ok: true } {
    return { ok: true };
  }
}

@Controller('a')
class InjectedPoolController {
  constructor(@Inject(RabbitMqPool) private readonly pool: RabbitMqPool) {}

  @Post()
  @HttpCode(200)
  async publish(): Promise<{ ok: true }> {
    await publishOn(this.pool);
    return { ok: true };
  }
}

/** Does nothing: isolates the cost of Nest's interceptor pipeline (RxJS, async-context binding). */
@Injectable()
class NoopInterceptor implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle();
  }
}

@Controller('i')
@UseInterceptors(NoopInterceptor)
class NoopInterceptorController {
  constructor(@Inject(RabbitMqPool) private readonly pool: RabbitMqPool) {}

  @Post()
  @HttpCode(200)
  async publish(): Promise<{ ok: true }> {
    await publishOn(this.pool);
    return { ok: true };
  }
}

@Controller('b')
@UseInterceptors(ChannelInterceptor)
class InterceptorController {
  @Post()
  @HttpCode(200)
  async publish(@CurrentChannel() handle: ChannelHandle): Promise<{ ok: true }> {
    const ch = await handle.get();
    ch.sendToQueue(QUEUE, BODY);
    await ch.waitForConfirms();
    return { ok: true };
  }
}

@Injectable({ scope: Scope.REQUEST })
class RequestPublisher {
  constructor(@Inject(RabbitMqPool) private readonly pool: RabbitMqPool) {}

  publish(): Promise<void> {
    return publishOn(this.pool);
  }
}

@Controller('c')
class RequestScopedController {
  constructor(@Inject(RequestPublisher) private readonly publisher: RequestPublisher) {}

  @Post()
  @HttpCode(200)
  async publish(): Promise<{ ok: true }> {
    await this.publisher.publish();
    return { ok: true };
  }
}

@Module({
  imports: [
    MqPoolModule.forRoot({
      rabbitmq: {
        url: URL,
        connections: 1,
        channelsPerConnection: CHANNELS,
        minChannels: CHANNELS,
      },
      metrics: { enabled: true },
    }),
  ],
  controllers: [
    NoopController,
    InjectedPoolController,
    NoopInterceptorController,
    InterceptorController,
    RequestScopedController,
  ],
  providers: [RequestPublisher],
})
class BenchModule {}

interface CannonResult {
  requests: { average: number; total: number };
  /** Server CPU (user + system) per request, µs: robust to noisy neighbours, unlike req/s. */
  cpuUsPerReq?: number;
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function cannon(url: string, seconds: number): Promise<CannonResult> {
  const { stdout } = await run(
    process.execPath,
    [autocannonBin, '-c', String(CONNECTIONS), '-d', String(seconds), '-m', 'POST', '-j', url],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  return JSON.parse(stdout) as CannonResult;
}

const VARIANTS = [
  { key: 'noop', label: '(0) HTTP only, no broker' },
  { key: 'a', label: '(a) injected pool' },
  { key: 'i', label: '(i) (a) + no-op interceptor' },
  { key: 'b', label: '(b) ChannelInterceptor' },
  { key: 'c', label: '(c) Scope.REQUEST provider' },
] as const;
type Key = (typeof VARIANTS)[number]['key'];
const ONLY = process.env.BENCH_VARIANTS?.split(',');
const RUN = ONLY ? VARIANTS.filter((v) => ONLY.includes(v.key)) : VARIANTS;

async function main(): Promise<void> {
  const setup = await amqp.connect(URL);
  const ch = await setup.createChannel();
  await ch.assertQueue(QUEUE, { durable: false, arguments: { 'x-max-length': 100_000 } });

  const app: INestApplication = await NestFactory.create(BenchModule, {
    logger: ['error', 'warn'],
  });
  await app.listen(0, '127.0.0.1');
  const base = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  const pool = app.get(RabbitMqPool);
  console.log(
    `HTTP publish-with-confirm bench: ${CONNECTIONS} connections, ${DURATION}s per run, ${ROUNDS} round(s), pool of ${CHANNELS} channels, Node ${process.version}`,
  );

  const samples = new Map<Key, CannonResult[]>(RUN.map((v) => [v.key, []]));
  for (const v of RUN) await cannon(`${base}/${v.key}`, 2); // warm-up: JIT, channels, keep-alive
  for (let round = 1; round <= ROUNDS; round++) {
    // Rotate the order each round, so no variant always runs first (or right after another).
    const order = RUN.map((_, i) => RUN[(i + round - 1) % RUN.length]!);
    for (const v of order) {
      await ch.purgeQueue(QUEUE);
      const cpu = process.cpuUsage();
      const r = await cannon(`${base}/${v.key}`, DURATION);
      const used = process.cpuUsage(cpu);
      r.cpuUsPerReq = (used.user + used.system) / Math.max(1, r.requests.total);
      samples.get(v.key)!.push(r);
      // autocannon drops in-flight requests when it stops; give their handlers a moment to settle.
      await new Promise((resolve) => setTimeout(resolve, 300));
      const leased = pool.stats().channels.leased;
      console.log(
        `  round ${round} ${v.label.padEnd(28)} ${r.requests.average.toFixed(0).padStart(7)} req/s  p50 ${r.latency.p50} ms  p99 ${r.latency.p99} ms  cpu ${r.cpuUsPerReq.toFixed(0)} µs/req` +
          (r.non2xx + r.errors + r.timeouts > 0
            ? `  non2xx=${r.non2xx} errors=${r.errors} timeouts=${r.timeouts}`
            : '') +
          (leased > 0 ? `  LEASED AFTER RUN: ${leased}` : ''),
      );
    }
  }

  const medianOf = (values: number[]): number => {
    const sorted = [...values].sort((x, y) => x - y);
    return sorted[Math.floor(sorted.length / 2)]!;
  };
  const rates = (key: Key) => samples.get(key)!.map((r) => r.requests.average);
  const cpus = (key: Key) => samples.get(key)!.map((r) => r.cpuUsPerReq ?? Infinity);
  console.log(
    '\nper variant: median req/s, and the least server CPU per request seen (the cost with the least interference):',
  );
  for (const v of RUN) {
    console.log(
      `  ${v.label.padEnd(28)} ${medianOf(rates(v.key)).toFixed(0).padStart(7)} req/s  ${Math.min(
        ...cpus(v.key),
      )
        .toFixed(0)
        .padStart(5)} µs CPU/req`,
    );
  }
  // Paired ratios: the variants of one round ran back to back, so slow drifts in the machine's load cancel out.
  const has = (key: Key) => RUN.some((v) => v.key === key);
  const paired = (x: Key, y: Key) => medianOf(rates(x).map((r, i) => r / rates(y)[i]!));
  const cpuRatio = (x: Key, y: Key) => Math.min(...cpus(y)) / Math.min(...cpus(x));
  const line = (label: string, x: Key, y: Key, note: string) => {
    if (!has(x) || !has(y)) return;
    console.log(
      `  ${label} = ${paired(x, y).toFixed(3)} (median of per-round ratios), ${cpuRatio(x, y).toFixed(3)} (from CPU per request)  ${note}`,
    );
  };
  console.log('');
  if (has('a') && has('b')) {
    const met = (r: number) => (r >= 0.95 ? 'MET' : 'NOT MET');
    line(
      '(b)/(a)',
      'b',
      'a',
      `target >= 0.95: ${met(paired('b', 'a'))} by req/s, ${met(cpuRatio('b', 'a'))} by CPU`,
    );
  }
  line('(i)/(a)', 'i', 'a', '(what any Nest interceptor costs)');
  line('(b)/(i)', 'b', 'i', '(ChannelInterceptor vs a no-op interceptor)');
  line('(c)/(a)', 'c', 'a', '(what request scope costs)');
  line('(a)/(0)', 'a', 'noop', '(the broker round trip vs bare HTTP)');

  const rows: BenchRow[] = RUN.map((v) => ({
    implementation: v.label,
    concurrency: CONNECTIONS,
    ours: v.key === 'a' || v.key === 'b',
    metrics: {
      reqPerSec: round(medianOf(rates(v.key)), 1),
      cpuUsPerReq: round(Math.min(...cpus(v.key)), 1),
      p50Ms: medianOf(samples.get(v.key)!.map((r) => r.latency.p50)),
      p99Ms: medianOf(samples.get(v.key)!.map((r) => r.latency.p99)),
    },
    ...(has('a') && v.key !== 'a' ? { ratios: { vsInjectedPool: round(paired(v.key, 'a')) } } : {}),
    samples: { reqPerSec: rates(v.key).map((r) => round(r, 1)) },
  }));
  const file = await writeBenchResults({
    bench: 'http',
    title: 'HTTP route publishing one confirmed message per request',
    settings: { durationS: DURATION, connections: CONNECTIONS, rounds: ROUNDS, channels: CHANNELS },
    units: { reqPerSec: 'req/s', cpuUsPerReq: 'µs server CPU/req', p50Ms: 'ms', p99Ms: 'ms' },
    rows,
    charts: [
      {
        id: 'http',
        title: 'HTTP publish-with-confirm: requests per second by injection style',
        metric: 'reqPerSec',
        higherIsBetter: true,
      },
    ],
  });
  console.log(`\nresults: ${file}`);

  await app.close();
  await ch.deleteQueue(QUEUE);
  await setup.close();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

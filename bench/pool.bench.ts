/**
 * Pool overhead, side by side: 1,000,000 acquire+release of trivial resources at concurrency 1
 * (max 8) and 64 (max 8, so every acquire queues; and max 64, so none does), for
 *   - this library's Pool: leak detection off; on with its default `captureLeakSite:
 *     'afterFirstLeak'` (no stack until a first leak: a healthy pool, like this one, never takes
 *     one; `captureLeakSite: false` runs the same code); on with `captureLeakSite: true` (a stack
 *     per acquire);
 *   - generic-pool and tarn (dev dependencies);
 *   - a minimal array-stack + FIFO-waiter pool written below: the floor any pool can reach;
 *   - that baseline plus a lease object per checkout and a deadline per waiter: the floor of any
 *     pool with this library's semantics (a released lease refuses use; every wait has a deadline).
 *
 * Run: `npm run bench:pool` (= node --expose-gc --import tsx bench/pool.bench.ts).
 * Env: BENCH_OPS (default 1000000), BENCH_ROUNDS (default 5; the median run is reported, and
 *      beside it each subject's fastest run),
 *      BENCH_ONLY (comma-separated subject keys; baseline, floor and generic-pool always run),
 *      BENCH_WARMUP (acquire+release before the measured run; default min(BENCH_OPS, 200000)).
 * Instructions instead of time, deterministic on a noisy machine: bench/pool-instructions.ts.
 * Also writes bench/results/pool.json (drawn by `npx tsx scripts/bench-chart.ts`).
 */
import { fileURLToPath } from 'node:url';

import genericPool from 'generic-pool';
import { Pool as TarnPool } from 'tarn';

import { Pool, type PoolOptions } from '../lib/core/index.js';
import { type BenchRow, round, writeBenchResults } from './bench-results.js';
import { SCENARIOS, scenarioHeading } from './pool-scenarios.js';

const OPS = Number(process.env.BENCH_OPS ?? 1_000_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
/** The current run's pool size (a child measures one scenario). */
let MAX = 8;

interface Resource {
  id: number;
}
let nextId = 0;
const makeResource = (): Resource => ({ id: nextId++ });

/** The floor: a stack of free resources and a FIFO of parked callers; no deadlines, no bookkeeping. */
class MinimalPool {
  private readonly free: Resource[] = [];
  private readonly waiters: ((r: Resource) => void)[] = [];
  private head = 0;

  constructor(size: number) {
    for (let i = 0; i < size; i++) this.free.push(makeResource());
  }

  acquire(): Promise<Resource> {
    const r = this.free.pop();
    if (r !== undefined) return Promise.resolve(r);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(r: Resource): void {
    if (this.head < this.waiters.length) {
      const waiter = this.waiters[this.head]!;
      this.waiters[this.head++] = undefined as never;
      if (this.head === this.waiters.length) {
        this.waiters.length = 0;
        this.head = 0;
      }
      waiter(r);
    } else {
      this.free.push(r);
    }
  }
}

/**
 * The floor under the semantics: the baseline plus only what any pool with this API must
 * do, whatever its design: a single-use lease object per checkout (so a released lease can refuse
 * use), and a waiter record holding its deadline and both settle functions (every wait ends at a
 * deadline). No timers, no abort, no metrics, no validation, no leak tracking. Where every acquire
 * waits it shows how far a pool with leases and deadlines can possibly get from generic-pool.
 */
class FloorLease {
  private ended = false;

  constructor(
    private readonly pool: FloorPool,
    private readonly held: Resource,
  ) {}

  get resource(): Resource {
    if (this.ended) throw new Error('lease already released');
    return this.held;
  }

  release(): void {
    if (this.ended) return;
    this.ended = true;
    this.pool.release(this.held);
  }
}

class FloorWaiter {
  resolve!: (lease: FloorLease) => void;
  reject!: (reason: unknown) => void;
  readonly promise = new Promise<FloorLease>((resolve, reject) => {
    this.resolve = resolve;
    this.reject = reject;
  });

  constructor(readonly deadline: number) {}
}

class FloorPool {
  private readonly free: Resource[] = [];
  private readonly waiters: (FloorWaiter | undefined)[] = [];
  private head = 0;
  /** Stands for a cached clock reading (a real read would cost more). */
  private readonly now = 0;

  constructor(size: number) {
    for (let i = 0; i < size; i++) this.free.push(makeResource());
  }

  acquire(): Promise<FloorLease> {
    const r = this.free.pop();
    if (r !== undefined) return Promise.resolve(new FloorLease(this, r));
    const waiter = new FloorWaiter(this.now + 5_000);
    this.waiters.push(waiter);
    return waiter.promise;
  }

  release(r: Resource): void {
    if (this.head < this.waiters.length) {
      const waiter = this.waiters[this.head]!;
      this.waiters[this.head++] = undefined;
      if (this.head === this.waiters.length) {
        this.waiters.length = 0;
        this.head = 0;
      }
      waiter.resolve(new FloorLease(this, r));
    } else {
      this.free.push(r);
    }
  }
}

interface Subject<H> {
  readonly name: string;
  setup(): Promise<void> | void;
  acquire(): Promise<H>;
  release(handle: H): void;
  teardown(): Promise<void>;
}

function minimalSubject(): Subject<Resource> {
  let pool!: MinimalPool;
  return {
    name: 'baseline (array stack + FIFO)',
    setup: () => void (pool = new MinimalPool(MAX)),
    acquire: () => pool.acquire(),
    release: (r) => pool.release(r),
    teardown: async () => undefined,
  };
}

function floorSubject(): Subject<FloorLease> {
  let pool!: FloorPool;
  return {
    name: 'floor (baseline + lease object + waiter deadline)',
    setup: () => void (pool = new FloorPool(MAX)),
    acquire: () => pool.acquire(),
    release: (lease) => lease.release(),
    teardown: async () => undefined,
  };
}

function ourSubject(
  name: string,
  options: Pick<PoolOptions, 'leakDetectionMs' | 'captureLeakSite'>,
) {
  let pool!: Pool<Resource>;
  const subject: Subject<{ release(): void }> = {
    name,
    setup: () =>
      void (pool = new Pool<Resource>(
        { create: async () => makeResource(), destroy: async () => undefined },
        { max: MAX, maxWaiting: 10_000, ...options },
      )),
    acquire: () => pool.acquire(),
    release: (lease) => lease.release(),
    teardown: () => pool.close(),
  };
  return subject;
}

function genericPoolSubject(): Subject<Resource> {
  let pool!: genericPool.Pool<Resource>;
  return {
    name: 'generic-pool',
    setup: () =>
      void (pool = genericPool.createPool<Resource>(
        { create: async () => makeResource(), destroy: async () => undefined },
        { max: MAX, min: 0 },
      )),
    acquire: () => pool.acquire(),
    release: (r) => void pool.release(r),
    teardown: async () => {
      await pool.drain();
      await pool.clear();
    },
  };
}

function tarnSubject(): Subject<Resource> {
  let pool!: TarnPool<Resource>;
  return {
    name: 'tarn',
    setup: () =>
      void (pool = new TarnPool<Resource>({
        create: (cb) => cb(undefined as unknown as Error, makeResource()),
        destroy: () => undefined,
        min: 0,
        max: MAX,
      })),
    acquire: () => pool.acquire().promise,
    release: (r) => void pool.release(r),
    teardown: () => pool.destroy().then(() => undefined),
  };
}

async function runOnce<H>(subject: Subject<H>, concurrency: number, ops: number): Promise<number> {
  await subject.setup();
  const perWorker = Math.floor(ops / concurrency);
  const worker = async (): Promise<void> => {
    for (let i = 0; i < perWorker; i++) {
      const handle = await subject.acquire();
      subject.release(handle);
    }
  };
  // CPU time, not wall time: on a shared machine, time spent descheduled is not the pool's cost.
  const started = process.cpuUsage();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const used = process.cpuUsage(started);
  await subject.teardown();
  return ((used.user + used.system) * 1000) / (perWorker * concurrency);
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
};

const SUBJECTS: Record<string, () => Subject<unknown>> = {
  baseline: minimalSubject as () => Subject<unknown>,
  floor: floorSubject as () => Subject<unknown>,
  'pool-leak-off': () => ourSubject('Pool, leak detection off', {}) as Subject<unknown>,
  'pool-leak-on': () =>
    ourSubject("Pool, leak detection on (default captureLeakSite: 'afterFirstLeak')", {
      leakDetectionMs: 60_000,
    }) as Subject<unknown>,
  'pool-leak-on-site': () =>
    ourSubject('Pool, leak detection on, captureLeakSite: true (a stack per acquire)', {
      leakDetectionMs: 60_000,
      captureLeakSite: true,
    }) as Subject<unknown>,
  'generic-pool': genericPoolSubject as () => Subject<unknown>,
  tarn: tarnSubject as () => Subject<unknown>,
};

/**
 * Child mode: measure one subject at one concurrency (after a warm-up) and print ns/op. Each
 * measurement runs in its own process so that no pool inherits JIT state (polymorphic call
 * sites, deoptimisations) from another: every one is measured at its best.
 */
async function child(key: string, concurrency: number, max: number): Promise<void> {
  MAX = max;
  const subject = SUBJECTS[key]!();
  await runOnce(subject, concurrency, Number(process.env.BENCH_WARMUP ?? Math.min(OPS, 200_000)));
  gc();
  process.stdout.write(
    JSON.stringify({ name: subject.name, ns: await runOnce(subject, concurrency, OPS) }),
  );
}

/** The references every ratio needs, run whatever BENCH_ONLY says. */
const ALWAYS = ['baseline', 'floor', 'generic-pool'];

/**
 * Parent mode: rounds are interleaved (round 1 of every pool, then round 2, ...) so that load
 * from other processes on a shared machine spreads over all pools instead of skewing one; the
 * median round is reported.
 */
async function parent(): Promise<void> {
  const { execFileSync } = await import('node:child_process');
  const script = fileURLToPath(import.meta.url);
  const only = process.env.BENCH_ONLY?.split(',');
  const keys = Object.keys(SUBJECTS).filter(
    (k) => only === undefined || only.includes(k) || ALWAYS.includes(k),
  );
  console.log(
    `node ${process.version}, ${OPS.toLocaleString('en')} acquire+release per run, trivial resources, ` +
      `median of ${ROUNDS} interleaved runs, one process per run (after a warm-up)`,
  );
  const rows: BenchRow[] = [];
  for (const { concurrency, max } of SCENARIOS) {
    const samples = new Map<string, { name: string; ns: number[] }>();
    for (let round = 0; round < ROUNDS; round++) {
      for (const key of keys) {
        const out = execFileSync(
          process.execPath,
          [...process.execArgv, script, '--child', key, String(concurrency), String(max)],
          {
            encoding: 'utf8',
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        const { name, ns } = JSON.parse(out) as { name: string; ns: number };
        const entry = samples.get(key) ?? { name, ns: [] };
        entry.ns.push(ns);
        samples.set(key, entry);
      }
    }
    const medianOf = (key: string): number => median(samples.get(key)!.ns);
    // Noise on a shared machine only ever adds time, so each subject's fastest run is its cost
    // with the least interference: printed beside the median, whose ratios can swing 1.4x
    // between runs of identical code on a noisy host.
    const fastestOf = (key: string): number => Math.min(...samples.get(key)!.ns);
    const baseline = medianOf('baseline');
    const gp = medianOf('generic-pool');
    const fastestBaseline = fastestOf('baseline');
    const fastestGp = fastestOf('generic-pool');
    console.log(`\n${scenarioHeading(concurrency, max)}`);
    console.log(
      '| pool | ns/op | ops/s | throughput vs generic-pool | time vs baseline | fastest run: ns/op, vs generic-pool, vs baseline | runs (ns/op) |\n|---|---:|---:|---:|---:|---:|---|',
    );
    for (const [key, { name, ns }] of samples) {
      const m = medianOf(key);
      const f = fastestOf(key);
      const opsPerSec = Math.round(1e9 / m).toLocaleString('en');
      const runs = ns.map((v) => v.toFixed(0)).join(' ');
      const fastest = `${f.toFixed(0)}, ${(fastestGp / f).toFixed(2)}x, ${(f / fastestBaseline).toFixed(2)}x`;
      console.log(
        `| ${name} | ${m.toFixed(0)} | ${opsPerSec} | ${(gp / m).toFixed(2)}x | ${(m / baseline).toFixed(2)}x | ${fastest} | ${runs} |`,
      );
      rows.push({
        implementation: name,
        concurrency,
        scenario: `max ${max}`,
        ours: key.startsWith('pool-'),
        metrics: { nsPerOp: round(m, 1), opsPerSec: Math.round(1e9 / m) },
        ratios: {
          throughputVsGenericPool: round(gp / m),
          timeVsBaseline: round(m / baseline),
          fastestThroughputVsGenericPool: round(fastestGp / f),
          fastestTimeVsBaseline: round(f / fastestBaseline),
        },
        samples: { nsPerOp: ns.map((v) => round(v, 1)) },
      });
    }
  }
  const file = await writeBenchResults({
    bench: 'pool',
    title: 'Pool core: acquire+release of trivial resources (CPU time)',
    settings: { ops: OPS, rounds: ROUNDS, only: process.env.BENCH_ONLY ?? '' },
    units: { nsPerOp: 'ns/op', opsPerSec: 'ops/s' },
    rows,
    charts: [
      {
        id: 'pool',
        title: 'Pool core: acquire+release per second of CPU (max 8, median of runs)',
        metric: 'opsPerSec',
        higherIsBetter: true,
        scenario: 'max 8',
      },
      {
        id: 'pool-unqueued',
        title:
          'Pool core at concurrency 64 with max 64 (nobody waits): acquire+release per second of CPU',
        metric: 'opsPerSec',
        higherIsBetter: true,
        scenario: 'max 64',
        singleGroup: 'concurrency 64, max 64',
      },
    ],
  });
  console.log(`\nresults: ${file}`);
}

const childIndex = process.argv.indexOf('--child');
if (childIndex === -1) await parent();
else
  await child(
    process.argv[childIndex + 1]!,
    Number(process.argv[childIndex + 2]),
    Number(process.argv[childIndex + 3]),
  );

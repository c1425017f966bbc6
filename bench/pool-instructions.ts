/**
 * Pool overhead in CPU instructions per acquire+release, the same subjects and scenarios as
 * bench/pool.bench.ts, counted instead of timed. On a shared or virtual machine the timed bench
 * moves ±20 % between identical runs; an instruction count of a deterministic V8 does not (two
 * identical runs agree to 0.1 instruction per op), so it tells small changes apart. Incidental
 * differences still move a count by a few % (the environment's size, code layout: the same
 * baseline counted 1008 and 1052 in two invocations), so compare subjects within one invocation
 * and changes by A/B of two builds in one environment. It is a proxy: time also depends on
 * memory, caches and GC, so confirm a win with the timed bench.
 *
 * How: each subject runs twice in its own process under valgrind (callgrind, nothing written) on
 * `node --single-threaded --predictable` (no concurrent compiler or GC threads, fixed seeds), with
 * the same warm-up and 100,000 or 300,000 measured acquire+release; the difference, divided by
 * 200,000, is the cost of one acquire+release, start-up and warm-up cancelled out.
 *
 * Run: `npm run bench:pool:instructions` (needs valgrind: `apt-get install valgrind`). About
 * 20-60 s per subject and scenario. Env: BENCH_ONLY (comma-separated subject keys of
 * pool.bench.ts; default baseline, floor, pool-leak-off, pool-leak-on, generic-pool).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { SCENARIOS, scenarioHeading } from './pool-scenarios.js';

const KEYS = process.env.BENCH_ONLY?.split(',') ?? [
  'baseline',
  'floor',
  'pool-leak-off',
  'pool-leak-on',
  'generic-pool',
];
const WARMUP = 200_000;
const SHORT = 100_000;
const LONG = 300_000;
const ROOT = fileURLToPath(new URL('..', import.meta.url));
// Compiled once with tsc and run as plain JavaScript: tsx transforms in a loader thread whose
// timing varies, which made two identical runs differ by 2 % of their instructions.
const OUT = join(ROOT, 'node_modules/.cache/nestjs-mq-pool/bench-instructions');
const BENCH = join(OUT, 'bench/pool.bench.js');

function compile(): void {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(
    process.execPath,
    [
      tsc,
      '--ignoreConfig',
      '--outDir',
      OUT,
      '--rootDir',
      ROOT,
      '--target',
      'ES2023',
      '--lib',
      'ES2023,ESNext.Disposable',
      '--module',
      'nodenext',
      '--moduleResolution',
      'nodenext',
      '--esModuleInterop',
      '--skipLibCheck',
      '--types',
      'node',
      join(ROOT, 'bench/pool.bench.ts'),
    ],
    { stdio: 'inherit' },
  );
  writeFileSync(join(OUT, 'package.json'), '{ "type": "module" }\n');
}

function instructions(key: string, concurrency: number, max: number, ops: number): number {
  const run = spawnSync(
    'valgrind',
    [
      '--tool=callgrind',
      '--callgrind-out-file=/dev/null',
      // V8 writes the machine code it runs: valgrind must re-check code it already translated.
      '--smc-check=all-non-file',
      process.execPath,
      '--expose-gc',
      '--single-threaded',
      '--predictable',
      BENCH,
      '--child',
      key,
      String(concurrency),
      String(max),
    ],
    {
      encoding: 'utf8',
      env: { ...process.env, BENCH_OPS: String(ops), BENCH_WARMUP: String(WARMUP) },
    },
  );
  const collected = /Collected : (\d+)/.exec(run.stderr)?.[1];
  if (run.status !== 0 || collected === undefined)
    throw new Error(
      `${key} under valgrind failed (exit ${run.status}):\n${run.stderr.slice(-2000)}`,
    );
  return Number(collected);
}

function main(): void {
  try {
    execFileSync('valgrind', ['--version'], { stdio: 'ignore' });
  } catch {
    console.error('bench:pool:instructions needs valgrind: apt-get install valgrind');
    process.exit(1);
  }
  compile();
  console.log(
    `node ${process.version}, instructions per acquire+release (valgrind; ${LONG.toLocaleString('en')} ` +
      `minus ${SHORT.toLocaleString('en')} measured ops after a ${WARMUP.toLocaleString('en')}-op warm-up)`,
  );
  for (const { concurrency, max } of SCENARIOS) {
    const perOp = new Map<string, number>();
    for (const key of KEYS) {
      const short = instructions(key, concurrency, max, SHORT);
      const long = instructions(key, concurrency, max, LONG);
      perOp.set(key, (long - short) / (LONG - SHORT));
    }
    console.log(`\n${scenarioHeading(concurrency, max)}`);
    console.log(
      '| subject | instructions/op | vs baseline | vs generic-pool |\n|---|---:|---:|---:|',
    );
    const baseline = perOp.get('baseline');
    const gp = perOp.get('generic-pool');
    for (const [key, n] of perOp) {
      const ratio = (ref: number | undefined) =>
        ref === undefined ? '–' : `${(n / ref).toFixed(2)}x`;
      console.log(`| ${key} | ${Math.round(n)} | ${ratio(baseline)} | ${ratio(gp)} |`);
    }
  }
}

main();

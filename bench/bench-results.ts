/**
 * The machine-readable form of a bench run: every bench writes one `bench/results/<bench>.json`
 * next to what it prints, and `scripts/bench-chart.ts` draws `docs/img/bench-*.svg` from those
 * files only — a chart never shows a figure that no run produced.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { format, resolveConfig } from 'prettier';

export const BENCH_RESULTS_SCHEMA = 1;

/** One implementation measured at one concurrency (in one scenario of the bench). */
export interface BenchRow {
  /** What was measured, e.g. "Pool, leak detection off", "raw shared channel". */
  readonly implementation: string;
  readonly concurrency: number;
  /** Groups rows when a bench measures more than one thing (e.g. Kafka "send" and "withTransaction"). */
  readonly scenario?: string;
  /** True for this library's own implementations (drawn highlighted). */
  readonly ours: boolean;
  /** Metric name → value; units are declared in `BenchResults.units`. */
  readonly metrics: Readonly<Record<string, number>>;
  /** Ratio name → value, as the bench prints them (e.g. "vsGenericPool": 5.79). */
  readonly ratios?: Readonly<Record<string, number>>;
  /** Raw per-round figures behind a median, for whoever wants to check the spread. */
  readonly samples?: Readonly<Record<string, readonly number[]>>;
}

/** A chart `scripts/bench-chart.ts` draws: one bar per row, grouped by concurrency. */
export interface BenchChartSpec {
  /** File name suffix: docs/img/bench-<id>.svg. */
  readonly id: string;
  readonly title: string;
  readonly metric: string;
  readonly higherIsBetter: boolean;
  /** Only rows of this scenario (all rows when absent). */
  readonly scenario?: string;
  /** Only these implementations, in this order (all, in row order, when absent). */
  readonly implementations?: readonly string[];
  /** Draw all rows as one group with this heading, on one scale (default: a group per concurrency). */
  readonly singleGroup?: string;
}

export interface BenchResults {
  readonly schema: typeof BENCH_RESULTS_SCHEMA;
  /** pool | rabbitmq | kafka | http: also the results file's name. */
  readonly bench: string;
  readonly title: string;
  /** ISO 8601, when the run finished. */
  readonly timestamp: string;
  readonly node: string;
  readonly machine: { readonly cpus: number; readonly cpuModel: string; readonly platform: string };
  /** The knobs the run used (env overrides included), so a figure can be reproduced. */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  /** Metric name → unit, e.g. { nsPerOp: "ns/op", opsPerSec: "ops/s" }. */
  readonly units: Readonly<Record<string, string>>;
  readonly rows: readonly BenchRow[];
  /** Headline figures not tied to one row (targets, overheads). */
  readonly summary?: Readonly<Record<string, number>>;
  readonly charts: readonly BenchChartSpec[];
}

export type BenchResultsInput = Omit<BenchResults, 'schema' | 'timestamp' | 'node' | 'machine'>;

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'results');

/**
 * Writes `bench/results/<bench>.json` atomically (a `.tmp` file renamed into place, so an
 * interrupted run never leaves half a file for the chart script) and returns its path. Formatted
 * with the repo's Prettier settings, so a committed results file passes `npm run lint`.
 */
export async function writeBenchResults(
  input: BenchResultsInput,
  dir = RESULTS_DIR,
): Promise<string> {
  const results: BenchResults = {
    schema: BENCH_RESULTS_SCHEMA,
    ...input,
    timestamp: new Date().toISOString(),
    node: process.version,
    machine: {
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      platform: `${process.platform}-${process.arch}`,
    },
  };
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${input.bench}.json`);
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  const options = (await resolveConfig(file)) ?? {};
  writeFileSync(tmp, await format(JSON.stringify(results), { ...options, parser: 'json' }));
  renameSync(tmp, file);
  return file;
}

/** Rounds a figure for the results file: enough digits to chart, no float noise. */
export const round = (value: number, digits = 3): number => Number(value.toFixed(digits));

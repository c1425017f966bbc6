/**
 * What the confirmed-publishing benches (rabbitmq.bench.ts, tracing.bench.ts) share: a publisher
 * under test, N callers each awaiting one publish at a time, and the figures of one measured run.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface Publisher {
  publish(): Promise<void>;
  close(): Promise<void>;
}

export interface Variant {
  name: string;
  setup(queue: string): Promise<Publisher>;
}

export interface Result {
  /** Confirmed messages per second. */
  rate: number;
  /** Publish latency percentiles, ms. */
  p50: number;
  p99: number;
  /** Client CPU (user + system) per message, µs. */
  cpuUsPerMsg: number;
}

// A GC before each measured run, without requiring --expose-gc on the command line.
setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** `total` publishes by `concurrency` callers, each awaiting its publish before the next. */
export async function drive(
  publisher: Publisher,
  concurrency: number,
  total: number,
  latencies?: Float64Array,
): Promise<void> {
  let issued = 0;
  const worker = async (): Promise<void> => {
    while (issued < total) {
      const i = issued++;
      const t = performance.now();
      await publisher.publish();
      if (latencies) latencies[i] = performance.now() - t;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

/** A warm-up of `warmup` publishes, a GC, `warmup` more, then `messages` publishes measured. */
export async function measure(
  publisher: Publisher,
  concurrency: number,
  warmup: number,
  messages: number,
): Promise<Result> {
  await drive(publisher, Math.min(concurrency, warmup), warmup);
  const latencies = new Float64Array(messages);
  collectGarbage();
  // Warm up again after the GC: a full GC leaves a transient (measured here: the next 5,000
  // publishes cost 1.5-2.5x the steady state, for every variant, most for the ones running the
  // most JavaScript per message) that would otherwise be charged to the first part of the run.
  await drive(publisher, concurrency, warmup);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await drive(publisher, concurrency, messages, latencies);
  const elapsedMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort();
  return {
    rate: (messages / elapsedMs) * 1000,
    p50: latencies[Math.floor(messages * 0.5)] as number,
    p99: latencies[Math.min(messages - 1, Math.floor(messages * 0.99))] as number,
    cpuUsPerMsg: (cpu.user + cpu.system) / messages,
  };
}

/** Median of each metric on its own: one noisy round moves none of them. */
export function medianResult(results: readonly Result[]): Result {
  const mid = (values: number[]): number =>
    values.sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  return {
    rate: mid(results.map((r) => r.rate)),
    p50: mid(results.map((r) => r.p50)),
    p99: mid(results.map((r) => r.p99)),
    cpuUsPerMsg: mid(results.map((r) => r.cpuUsPerMsg)),
  };
}

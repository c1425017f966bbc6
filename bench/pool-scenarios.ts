/**
 * The scenarios of bench/pool.bench.ts, shared with bench/pool-instructions.ts so that the timed
 * and the counted figures always describe the same runs.
 *
 * The pool's size decides whether callers queue: with 8 resources and 64 callers every acquire
 * waits (each op pays a pending promise, in every pool, the baseline included); with 64 nobody
 * does, and the figure is the cost of concurrency itself (more resources, interleaved callers).
 */
export const SCENARIOS = [
  { concurrency: 1, max: 8 },
  { concurrency: 64, max: 8 },
  { concurrency: 64, max: 64 },
] as const;

/** The heading a bench prints above one scenario's table. */
export function scenarioHeading(concurrency: number, max: number): string {
  const waits = concurrency > max ? 'every acquire waits' : 'nobody waits';
  return `concurrency ${concurrency}, max ${max} (${waits})`;
}

import type { PoolKind } from '../nest/mq-pool.constants.js';

/** One pool's part of the drain report that is logged at shutdown. */
export interface DrainOutcome {
  pool: string;
  broker: PoolKind;
  before: unknown;
  after: unknown;
  /** The adapter's drain report, or the reason it has none. */
  report: unknown;
  durationMs: number;
}

/** What a drainable adapter pool provides (both adapters do). */
export interface DrainablePool {
  stats(): unknown;
  drain(deadlineMs: number): Promise<unknown>;
}

/**
 * Drains one pool within `budgetMs`, never rejecting and never outliving the budget by more than a
 * short grace: a drain that ignores its deadline must not hold `app.close()` forever.
 */
export async function drainWithin(
  pool: DrainablePool,
  name: string,
  broker: PoolKind,
  budgetMs: number,
  graceMs = 1_000,
): Promise<DrainOutcome> {
  const started = performance.now();
  const before = snapshot(pool);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const overdue = new Promise<unknown>((resolve) => {
    timer = setTimeout(
      () => resolve({ error: `drain did not settle within ${budgetMs + graceMs}ms` }),
      budgetMs + graceMs,
    );
    timer.unref();
  });
  let report: unknown;
  try {
    report = await Promise.race([
      pool.drain(budgetMs).catch((e: unknown) => ({
        error: e instanceof Error ? `${e.name}: ${e.message}` : String(e),
      })),
      overdue,
    ]);
  } finally {
    clearTimeout(timer);
  }
  return {
    pool: name,
    broker,
    before,
    after: snapshot(pool),
    report,
    durationMs: Math.round(performance.now() - started),
  };
}

function snapshot(pool: DrainablePool): unknown {
  try {
    return pool.stats();
  } catch {
    return undefined;
  }
}

import type { Clock } from './clock.js';
import type { CoarseClock } from './coarse-clock.js';
import type { MqLogger } from './logger.js';
import type { DrainReport, PoolStats } from './pool-stats.js';

/** What a drain needs of its pool: the steps it orders, and what it waits on. */
export interface DrainablePool {
  readonly name: string;
  readonly logger: MqLogger;
  readonly clock: Clock;
  readonly time: CoarseClock;
  stats(): PoolStats;
  /** No new work: acquires and waiters rejected, creations aborted, idle resources destroyed. */
  stopTakingWork(): void;
  /** Resources still out: leased, validating or being created. */
  outstanding(): number;
  /** The lease deadline passed: revokes leases and abandons validations; returns the leases revoked. */
  revokeAll(): number;
  /** `factory.destroy()` calls not yet settled. */
  destroysPending(): number;
  /** Resources destroyed since the drain began. */
  destroyedSinceDrain(): number;
  /** Sets the hook the pool calls after each step that may end a wait of the drain. */
  onProgress(hook: (() => void) | undefined): void;
  /** The waits are over: the pool is closed, its timers stopped. */
  closed(): void;
  /** Tells the pool's listeners (after the report is logged). */
  drained(report: DrainReport): void;
}

/**
 * One drain of a pool, in phases: stop taking work → wait for leases, validations and creations
 * up to the lease deadline → revoke what is left → wait for the `factory.destroy()` calls within
 * what remains of the destroy deadline → closed, with a report. `close()` is a drain whose lease
 * deadline is 0, or `forceDeadline()` on one in progress.
 */
export class PoolDrain {
  readonly report: Promise<DrainReport>;
  private force: (() => void) | undefined = undefined;

  constructor(
    private readonly pool: DrainablePool,
    leaseDeadlineMs: number,
    destroyDeadlineMs: number,
  ) {
    this.report = this.run(leaseDeadlineMs, destroyDeadlineMs);
  }

  /** Ends the wait for leases now (`close()` during a drain). */
  forceDeadline(): void {
    this.force?.();
  }

  private async run(leaseDeadlineMs: number, destroyDeadlineMs: number): Promise<DrainReport> {
    const pool = this.pool;
    const startedAt = pool.time.exact();
    pool.logger.info(`pool "${pool.name}": draining`, {
      ...pool.stats(),
      deadlineMs: leaseDeadlineMs,
    });
    pool.stopTakingWork();

    const quiet = await this.waitFor(() => pool.outstanding() === 0, leaseDeadlineMs, true);
    const leasedAtDeadline = quiet ? 0 : pool.revokeAll();
    const remaining = Math.max(0, destroyDeadlineMs - (pool.time.exact() - startedAt));
    const destroysSettled = await this.waitFor(
      () => pool.destroysPending() === 0,
      remaining,
      false,
    );

    pool.closed();
    const report: DrainReport = {
      destroyed: pool.destroyedSinceDrain(),
      leasedAtDeadline,
      durationMs: pool.time.exact() - startedAt,
      timedOut: !quiet || !destroysSettled,
    };
    pool.logger.info(`pool "${pool.name}": drained`, { ...pool.stats(), ...report });
    pool.drained(report);
    return report;
  }

  /**
   * Resolves true once `condition` holds (re-checked on every progress of the pool), false at the
   * deadline. `forceable`: `forceDeadline()` may end the wait at once.
   */
  private waitFor(
    condition: () => boolean,
    deadlineMs: number,
    forceable: boolean,
  ): Promise<boolean> {
    if (condition()) return Promise.resolve(true);
    if (deadlineMs <= 0) return Promise.resolve(false);
    const { pool } = this;
    return new Promise<boolean>((resolve) => {
      const finish = (result: boolean): void => {
        pool.clock.clearTimeout(timer);
        pool.onProgress(undefined);
        this.force = undefined;
        resolve(result);
      };
      const timer = pool.clock.setTimeout(() => finish(false), deadlineMs);
      pool.onProgress(() => {
        if (condition()) finish(true);
      });
      if (forceable) this.force = () => finish(false);
    });
  }
}

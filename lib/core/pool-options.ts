import { type Clock, SYSTEM_CLOCK } from './clock.js';
import { type MqLogger, NOOP_LOGGER } from './logger.js';
import { NOOP_POOL_METRICS, type PoolMetricsRecorder } from './metrics-recorder.js';

/** When a pool with leak detection records acquisition sites: see `PoolOptions.captureLeakSite`. */
export type LeakSiteCapture = boolean | 'afterFirstLeak';

export const isLeakSiteCapture = (value: unknown): value is LeakSiteCapture =>
  typeof value === 'boolean' || value === 'afterFirstLeak';

/** Says what to pass, for the error of an invalid `captureLeakSite`. */
export const LEAK_SITE_CAPTURE_FIX =
  "use 'afterFirstLeak' (the default), true to record every acquire's site, or false for none";

/** Options of a `Pool`. Validated once, in the constructor, by `resolvePoolOptions()`. */
export interface PoolOptions {
  /** Required, >= 1. Counts resources being created, so the pool never holds more. */
  max: number;
  /** Resources (idle or leased) the pool keeps, created ahead of demand. Default 0. */
  min?: number;
  /**
   * Deadline of every `acquire()`, in ms. Default 5000. Measured on a millisecond clock cached per
   * event-loop turn (a real clock read per waiting acquire would cost a third of it): a wait never
   * ends late, but one that starts late in a long synchronous run ends early by up to that run.
   */
  acquireTimeoutMs?: number;
  /**
   * Callers that may queue beyond what the pool can serve by creating resources within `max`.
   * Beyond it `acquire()` rejects at once with `PoolExhaustedError`. 0 = never queue for a
   * release. Default 1000.
   */
  maxWaiting?: number;
  /** Idle resources above `min` are destroyed after idling this long, in ms. 0 = never. Default 30000. */
  idleTimeoutMs?: number;
  /** Resources are retired after this long (a leased one when released), in ms. 0 = unlimited. Default 0. */
  maxLifetimeMs?: number;
  /** Fraction of `maxLifetimeMs` subtracted at random per resource, so they do not all expire together. Default 0.1. */
  lifetimeJitter?: number;
  /** `factory.validate()` runs on borrow only for a resource idle at least this long, in ms. Default 1000. */
  validateAfterIdleMs?: number;
  /**
   * A lease held longer than this is reported once as a leak (event, log, metric), in ms. 0 = off.
   * Default 0. Lease times come from a millisecond clock cached per event-loop turn (no clock read
   * per acquire), so a turn that blocks the loop for X ms can make a report up to X ms early: pick
   * a threshold well above your longest turns (seconds, not milliseconds).
   */
  leakDetectionMs?: number;
  /**
   * With leak detection on, when to record where each lease is acquired (a stack capture, so a
   * leak report can name its site). A stack capture costs 2-4 µs per `acquire()`, 15-30 times an
   * acquire without it, so by default a pool pays it only once it has a leak to explain:
   * - `'afterFirstLeak'` (default): no stacks until the pool reports its first leak; from then on
   *   every acquire records its site, so the next leak of the same code path names it. Leaks
   *   come from code paths that forget to release, and they repeat: the second report finds it.
   * - `true`: every acquire, from the start (the first report already names its site).
   * - `false`: never; leaks are still detected, counted and reported, without a site.
   */
  captureLeakSite?: LeakSiteCapture;
  /** Full-jitter exponential backoff between failed creations. Defaults 100 / 10000 ms. */
  createBackoff?: { initialDelayMs?: number; maxDelayMs?: number };
  /**
   * Opt-in circuit breaker: after this many consecutive creation failures, while the pool holds
   * no resource, `acquire()` rejects at once with `PoolExhaustedError` (reason `createFailing`)
   * until a probe creation succeeds. 0 = off: callers wait until their deadline. Default 0.
   */
  failFastAfterCreateFailures?: number;
  /** Deadline of `drain()` when called without one, in ms. Default 30000. */
  drainTimeoutMs?: number;
  /** Name used in messages, logs and events. Default "pool". */
  name?: string;
  clock?: Clock;
  logger?: MqLogger;
  metrics?: PoolMetricsRecorder;
  /** Uniform in [0, 1); used for backoff and lifetime jitter. Default Math.random. */
  random?: () => number;
}

/** Every option, resolved: what the pool actually runs with. */
export interface ResolvedPoolOptions {
  readonly max: number;
  readonly min: number;
  readonly acquireTimeoutMs: number;
  readonly maxWaiting: number;
  readonly idleTimeoutMs: number;
  readonly maxLifetimeMs: number;
  readonly lifetimeJitter: number;
  readonly validateAfterIdleMs: number;
  readonly leakDetectionMs: number;
  readonly captureLeakSite: LeakSiteCapture;
  readonly createBackoff: { readonly initialDelayMs: number; readonly maxDelayMs: number };
  readonly failFastAfterCreateFailures: number;
  readonly drainTimeoutMs: number;
  readonly name: string;
  readonly clock: Clock;
  readonly logger: MqLogger;
  readonly metrics: PoolMetricsRecorder;
  readonly random: () => number;
}

/** The defaults, in one place. `max` has none: a pool size is a decision to make. */
export const DEFAULT_POOL_OPTIONS: Readonly<Omit<ResolvedPoolOptions, 'max'>> = Object.freeze({
  min: 0,
  acquireTimeoutMs: 5_000,
  maxWaiting: 1_000,
  idleTimeoutMs: 30_000,
  maxLifetimeMs: 0,
  lifetimeJitter: 0.1,
  validateAfterIdleMs: 1_000,
  leakDetectionMs: 0,
  captureLeakSite: 'afterFirstLeak',
  createBackoff: Object.freeze({ initialDelayMs: 100, maxDelayMs: 10_000 }),
  failFastAfterCreateFailures: 0,
  drainTimeoutMs: 30_000,
  name: 'pool',
  clock: SYSTEM_CLOCK,
  logger: NOOP_LOGGER,
  metrics: NOOP_POOL_METRICS,
  random: Math.random,
});

import { InvalidPoolOptionsError } from './errors/invalid-pool-options.error.js';
import {
  DEFAULT_POOL_OPTIONS,
  isLeakSiteCapture,
  LEAK_SITE_CAPTURE_FIX,
  type PoolOptions,
  type ResolvedPoolOptions,
} from './pool-options.js';

/** Longest delay `setTimeout` honours; a longer one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

const KNOWN_KEYS = [
  'max',
  'min',
  'acquireTimeoutMs',
  'maxWaiting',
  'idleTimeoutMs',
  'maxLifetimeMs',
  'lifetimeJitter',
  'validateAfterIdleMs',
  'leakDetectionMs',
  'captureLeakSite',
  'createBackoff',
  'failFastAfterCreateFailures',
  'drainTimeoutMs',
  'name',
  'clock',
  'logger',
  'metrics',
  'random',
] as const satisfies readonly (keyof PoolOptions)[];
const BACKOFF_KEYS = ['initialDelayMs', 'maxDelayMs'] as const;

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    value === undefined ||
    value === null
  )
    return String(value);
  return typeof value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rejectUnknownKeys(
  record: Record<string, unknown>,
  known: readonly string[],
  prefix: string,
): void {
  for (const key of Object.keys(record)) {
    if (!known.includes(key)) {
      throw new InvalidPoolOptionsError(
        `${prefix}${key}`,
        'unknown option',
        `remove it; known options are: ${known.join(', ')}`,
      );
    }
  }
}

/**
 * Validates pool options once and fills in `DEFAULT_POOL_OPTIONS`. Every problem is reported as
 * `InvalidPoolOptionsError(key, problem, fix)`. `keyPrefix` lets an adapter report its own path
 * (e.g. `rabbitmq.channelPool.`).
 */
export function resolvePoolOptions(options: PoolOptions, keyPrefix = ''): ResolvedPoolOptions {
  const p = keyPrefix;
  if (!isRecord(options)) {
    throw new InvalidPoolOptionsError(
      p === '' ? 'options' : p.slice(0, -1),
      `must be an object, got ${describe(options)}`,
      'pass { max: <number>, ... }',
    );
  }
  const raw = options as unknown as Record<string, unknown>;
  rejectUnknownKeys(raw, KNOWN_KEYS, p);

  const integer = (
    key: string,
    value: unknown,
    min: number,
    fix: string,
    allowInfinity = false,
  ): number => {
    const ok =
      typeof value === 'number' &&
      value >= min &&
      (Number.isSafeInteger(value) || (allowInfinity && value === Number.POSITIVE_INFINITY));
    if (!ok)
      throw new InvalidPoolOptionsError(
        `${p}${key}`,
        `must be an integer >= ${min}${allowInfinity ? ' or Infinity' : ''}, got ${describe(value)}`,
        fix,
      );
    return value;
  };
  const duration = (key: string, value: unknown, min: number, fix: string): number => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
      throw new InvalidPoolOptionsError(
        `${p}${key}`,
        `must be a finite number of ms >= ${min}, got ${describe(value)}`,
        fix,
      );
    }
    if (value > MAX_TIMER_MS) {
      throw new InvalidPoolOptionsError(
        `${p}${key}`,
        `must be <= ${MAX_TIMER_MS} ms (the longest timer Node honours), got ${value}`,
        'use a shorter duration, or 0 where 0 means "off"',
      );
    }
    return value;
  };
  const fn = (key: string, value: unknown, methods: readonly string[], fix: string): void => {
    const ok =
      methods.length === 0
        ? typeof value === 'function'
        : isRecord(value) && methods.every((m) => typeof value[m] === 'function');
    if (!ok) {
      const what =
        methods.length === 0
          ? 'a function'
          : `an object with ${methods.map((m) => `${m}()`).join(', ')}`;
      throw new InvalidPoolOptionsError(
        `${p}${key}`,
        `must be ${what}, got ${describe(value)}`,
        fix,
      );
    }
  };
  const pick = <K extends keyof typeof DEFAULT_POOL_OPTIONS>(key: K): unknown =>
    raw[key] === undefined ? DEFAULT_POOL_OPTIONS[key] : raw[key];

  if (raw.max === undefined) {
    throw new InvalidPoolOptionsError(
      `${p}max`,
      'is required',
      'set max to the most resources the pool may hold, e.g. { max: 8 }',
    );
  }
  const max = integer('max', raw.max, 1, 'set max to the most resources the pool may hold, e.g. 8');
  const min = integer(
    'min',
    pick('min'),
    0,
    'set min to 0 or a small number of resources to keep warm',
  );
  if (min > max)
    throw new InvalidPoolOptionsError(
      `${p}min`,
      `(${min}) exceeds max (${max})`,
      `lower min to at most ${max} or raise max`,
    );

  const acquireTimeoutMs = duration(
    'acquireTimeoutMs',
    pick('acquireTimeoutMs'),
    1,
    'every acquire needs a deadline; use e.g. 5000',
  );
  const maxWaiting = integer(
    'maxWaiting',
    pick('maxWaiting'),
    0,
    'use 0 (never queue) up to a bound like 1000',
    true,
  );
  const idleTimeoutMs = duration(
    'idleTimeoutMs',
    pick('idleTimeoutMs'),
    0,
    'use 0 to keep idle resources, or e.g. 30000',
  );
  const maxLifetimeMs = duration(
    'maxLifetimeMs',
    pick('maxLifetimeMs'),
    0,
    'use 0 for unlimited, or e.g. 1800000 (30 min)',
  );
  const lifetimeJitter = pick('lifetimeJitter');
  if (typeof lifetimeJitter !== 'number' || !(lifetimeJitter >= 0 && lifetimeJitter < 1)) {
    throw new InvalidPoolOptionsError(
      `${p}lifetimeJitter`,
      `must be a fraction in [0, 1), got ${describe(lifetimeJitter)}`,
      'use e.g. 0.1 to spread expiries over the last 10% of maxLifetimeMs',
    );
  }
  const validateAfterIdleMs = duration(
    'validateAfterIdleMs',
    pick('validateAfterIdleMs'),
    0,
    'use 0 to validate on every borrow, or e.g. 1000',
  );
  const leakDetectionMs = duration(
    'leakDetectionMs',
    pick('leakDetectionMs'),
    0,
    'use 0 to turn leak detection off, or e.g. 60000',
  );
  const captureLeakSite = pick('captureLeakSite');
  if (!isLeakSiteCapture(captureLeakSite)) {
    throw new InvalidPoolOptionsError(
      `${p}captureLeakSite`,
      `must be true, false or 'afterFirstLeak', got ${describe(captureLeakSite)}`,
      LEAK_SITE_CAPTURE_FIX,
    );
  }

  const backoffRaw = raw.createBackoff === undefined ? {} : raw.createBackoff;
  if (!isRecord(backoffRaw)) {
    throw new InvalidPoolOptionsError(
      `${p}createBackoff`,
      `must be an object, got ${describe(backoffRaw)}`,
      'use { initialDelayMs: 100, maxDelayMs: 10000 }',
    );
  }
  rejectUnknownKeys(backoffRaw, BACKOFF_KEYS, `${p}createBackoff.`);
  const defaults = DEFAULT_POOL_OPTIONS.createBackoff;
  const initialDelayMs = duration(
    'createBackoff.initialDelayMs',
    backoffRaw.initialDelayMs === undefined ? defaults.initialDelayMs : backoffRaw.initialDelayMs,
    1,
    'use e.g. 100',
  );
  const maxDelayMs = duration(
    'createBackoff.maxDelayMs',
    backoffRaw.maxDelayMs === undefined ? defaults.maxDelayMs : backoffRaw.maxDelayMs,
    1,
    'use e.g. 10000',
  );
  if (maxDelayMs < initialDelayMs) {
    throw new InvalidPoolOptionsError(
      `${p}createBackoff.maxDelayMs`,
      `(${maxDelayMs}) is below initialDelayMs (${initialDelayMs})`,
      `raise maxDelayMs to at least ${initialDelayMs}`,
    );
  }

  const failFastAfterCreateFailures = integer(
    'failFastAfterCreateFailures',
    pick('failFastAfterCreateFailures'),
    0,
    'use 0 (off) or e.g. 5',
  );
  const drainTimeoutMs = duration('drainTimeoutMs', pick('drainTimeoutMs'), 0, 'use e.g. 30000');
  const name = pick('name');
  if (typeof name !== 'string' || name.length === 0) {
    throw new InvalidPoolOptionsError(
      `${p}name`,
      `must be a non-empty string, got ${describe(name)}`,
      'use e.g. "rabbitmq:default"',
    );
  }
  const clock = pick('clock');
  fn(
    'clock',
    clock,
    ['now', 'setTimeout', 'clearTimeout'],
    'pass a Clock, or omit it to use SYSTEM_CLOCK',
  );
  const logger = pick('logger');
  fn('logger', logger, ['debug', 'info', 'warn', 'error'], 'pass an MqLogger, or omit it');
  const metrics = pick('metrics');
  fn(
    'metrics',
    metrics,
    ['acquired', 'acquireFailed', 'leak'],
    'pass a PoolMetricsRecorder, or omit it',
  );
  const random = pick('random');
  fn('random', random, [], 'pass a function returning a number in [0, 1), or omit it');

  return Object.freeze({
    max,
    min,
    acquireTimeoutMs,
    maxWaiting,
    idleTimeoutMs,
    maxLifetimeMs,
    lifetimeJitter,
    validateAfterIdleMs,
    leakDetectionMs,
    captureLeakSite,
    createBackoff: Object.freeze({ initialDelayMs, maxDelayMs }),
    failFastAfterCreateFailures,
    drainTimeoutMs,
    name,
    clock: clock as ResolvedPoolOptions['clock'],
    logger: logger as ResolvedPoolOptions['logger'],
    metrics: metrics as ResolvedPoolOptions['metrics'],
    random: random as ResolvedPoolOptions['random'],
  });
}

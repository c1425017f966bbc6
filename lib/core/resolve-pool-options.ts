import { InvalidPoolOptionsError } from './errors/invalid-pool-options.error.js';
import {
  checkInt,
  checkKnownKeys,
  checkMs,
  checkObject,
  checkString,
  describeOptionValue,
  isOptionBag,
  type OptionBag,
} from './option-checks.js';
import {
  DEFAULT_POOL_OPTIONS,
  isLeakSiteCapture,
  LEAK_SITE_CAPTURE_FIX,
  type PoolOptions,
  type ResolvedPoolOptions,
} from './pool-options.js';

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

/**
 * Validates pool options once and fills in `DEFAULT_POOL_OPTIONS`. Every problem is reported as
 * `InvalidPoolOptionsError(key, problem, fix)`. `keyPrefix` lets an adapter report its own path
 * (e.g. `rabbitmq.channelPool.`).
 */
export function resolvePoolOptions(options: PoolOptions, keyPrefix = ''): ResolvedPoolOptions {
  // The helpers take the dotted key of the object an option sits in.
  const at = keyPrefix.endsWith('.') ? keyPrefix.slice(0, -1) : keyPrefix;
  const raw = checkObject(options, at === '' ? 'options' : at, '{ max: <number>, ... }');
  checkKnownKeys(raw, at, KNOWN_KEYS);
  const d = DEFAULT_POOL_OPTIONS;
  const p = keyPrefix;
  const pick = <K extends keyof typeof d>(key: K): unknown =>
    raw[key] === undefined ? d[key] : raw[key];
  // Durations of the core are any number of ms (timers take fractions), unlike the adapters' integers.
  const ms = (prop: keyof typeof d & string, min: number, fix: string): number =>
    checkMs(raw, prop, at, d[prop] as number, min, undefined, { fractional: true, fix });

  if (raw.max === undefined) {
    throw new InvalidPoolOptionsError(
      `${p}max`,
      'is required',
      'set max to the most resources the pool may hold, e.g. { max: 8 }',
    );
  }
  const max = checkInt(raw, 'max', at, 0, 1, undefined, {
    fix: 'set max to the most resources the pool may hold, e.g. 8',
  });
  const min = checkInt(raw, 'min', at, d.min, 0, undefined, {
    fix: 'set min to 0 or a small number of resources to keep warm',
  });
  if (min > max)
    throw new InvalidPoolOptionsError(
      `${p}min`,
      `(${min}) exceeds max (${max})`,
      `lower min to at most ${max} or raise max`,
    );

  const acquireTimeoutMs = ms(
    'acquireTimeoutMs',
    1,
    'every acquire needs a deadline; use e.g. 5000',
  );
  const maxWaiting = checkInt(raw, 'maxWaiting', at, d.maxWaiting, 0, undefined, {
    allowInfinity: true,
    fix: 'use 0 (never queue) up to a bound like 1000',
  });
  const idleTimeoutMs = ms('idleTimeoutMs', 0, 'use 0 to keep idle resources, or e.g. 30000');
  const maxLifetimeMs = ms('maxLifetimeMs', 0, 'use 0 for unlimited, or e.g. 1800000 (30 min)');
  const lifetimeJitter = pick('lifetimeJitter');
  if (typeof lifetimeJitter !== 'number' || !(lifetimeJitter >= 0 && lifetimeJitter < 1)) {
    throw new InvalidPoolOptionsError(
      `${p}lifetimeJitter`,
      `must be a fraction in [0, 1), got ${describeOptionValue(lifetimeJitter)}`,
      'use e.g. 0.1 to spread expiries over the last 10% of maxLifetimeMs',
    );
  }
  const validateAfterIdleMs = ms(
    'validateAfterIdleMs',
    0,
    'use 0 to validate on every borrow, or e.g. 1000',
  );
  const leakDetectionMs = ms(
    'leakDetectionMs',
    0,
    'use 0 to turn leak detection off, or e.g. 60000',
  );
  const captureLeakSite = pick('captureLeakSite');
  if (!isLeakSiteCapture(captureLeakSite)) {
    throw new InvalidPoolOptionsError(
      `${p}captureLeakSite`,
      `must be true, false or 'afterFirstLeak', got ${describeOptionValue(captureLeakSite)}`,
      LEAK_SITE_CAPTURE_FIX,
    );
  }

  const backoffKey = `${p}createBackoff`;
  const backoff =
    raw.createBackoff === undefined
      ? {}
      : checkObject(raw.createBackoff, backoffKey, '{ initialDelayMs: 100, maxDelayMs: 10000 }');
  checkKnownKeys(backoff, backoffKey, BACKOFF_KEYS);
  const backoffMs = (prop: 'initialDelayMs' | 'maxDelayMs', fix: string): number =>
    checkMs(backoff, prop, backoffKey, d.createBackoff[prop], 1, undefined, {
      fractional: true,
      fix,
    });
  const initialDelayMs = backoffMs('initialDelayMs', 'use e.g. 100');
  const maxDelayMs = backoffMs('maxDelayMs', 'use e.g. 10000');
  if (maxDelayMs < initialDelayMs) {
    throw new InvalidPoolOptionsError(
      `${backoffKey}.maxDelayMs`,
      `(${maxDelayMs}) is below initialDelayMs (${initialDelayMs})`,
      `raise maxDelayMs to at least ${initialDelayMs}`,
    );
  }

  const failFastAfterCreateFailures = checkInt(
    raw,
    'failFastAfterCreateFailures',
    at,
    d.failFastAfterCreateFailures,
    0,
    undefined,
    { fix: 'use 0 (off) or e.g. 5' },
  );
  const drainTimeoutMs = ms('drainTimeoutMs', 0, 'use e.g. 30000');
  const name = checkString(raw, 'name', at, d.name) as string;
  const clock = pick('clock');
  methods(
    `${p}clock`,
    clock,
    ['now', 'setTimeout', 'clearTimeout'],
    'pass a Clock, or omit it to use SYSTEM_CLOCK',
  );
  const logger = pick('logger');
  methods(`${p}logger`, logger, ['debug', 'info', 'warn', 'error'], 'pass an MqLogger, or omit it');
  const metrics = pick('metrics');
  methods(
    `${p}metrics`,
    metrics,
    ['acquired', 'acquireFailed', 'leak'],
    'pass a PoolMetricsRecorder, or omit it',
  );
  const random = pick('random');
  methods(`${p}random`, random, [], 'pass a function returning a number in [0, 1), or omit it');

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

/** A collaborator option: a function (`names` empty) or an object with the methods `names`. */
function methods(key: string, value: unknown, names: readonly string[], fix: string): void {
  const ok =
    names.length === 0
      ? typeof value === 'function'
      : isOptionBag(value) && names.every((m) => typeof (value as OptionBag)[m] === 'function');
  if (!ok) {
    const what =
      names.length === 0 ? 'a function' : `an object with ${names.map((m) => `${m}()`).join(', ')}`;
    throw new InvalidPoolOptionsError(
      key,
      `must be ${what}, got ${describeOptionValue(value)}`,
      fix,
    );
  }
}

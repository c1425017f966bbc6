import { describe, expect, it } from 'vitest';

import { SYSTEM_CLOCK } from '../../../lib/core/clock.js';
import { InvalidPoolOptionsError } from '../../../lib/core/errors/invalid-pool-options.error.js';
import { NOOP_LOGGER } from '../../../lib/core/logger.js';
import { NOOP_POOL_METRICS } from '../../../lib/core/metrics-recorder.js';
import { Pool } from '../../../lib/core/pool.js';
import { DEFAULT_POOL_OPTIONS, type PoolOptions } from '../../../lib/core/pool-options.js';
import { resolvePoolOptions } from '../../../lib/core/resolve-pool-options.js';
import { TestFactory } from './support/test-factory.js';

function invalid(options: unknown): InvalidPoolOptionsError {
  try {
    resolvePoolOptions(options as PoolOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPoolOptionsError);
    return error as InvalidPoolOptionsError;
  }
  throw new Error('expected InvalidPoolOptionsError');
}

describe('Pool options', () => {
  it('fills every default from DEFAULT_POOL_OPTIONS', () => {
    expect(resolvePoolOptions({ max: 8 })).toEqual({ ...DEFAULT_POOL_OPTIONS, max: 8 });
    expect(DEFAULT_POOL_OPTIONS).toMatchObject({
      min: 0,
      acquireTimeoutMs: 5000,
      maxWaiting: 1000,
      idleTimeoutMs: 30_000,
      maxLifetimeMs: 0,
      lifetimeJitter: 0.1,
      validateAfterIdleMs: 1000,
      leakDetectionMs: 0,
      captureLeakSite: 'afterFirstLeak',
      createBackoff: { initialDelayMs: 100, maxDelayMs: 10_000 },
      failFastAfterCreateFailures: 0,
      drainTimeoutMs: 30_000,
      name: 'pool',
      clock: SYSTEM_CLOCK,
      logger: NOOP_LOGGER,
      metrics: NOOP_POOL_METRICS,
    });
    expect(Object.isFrozen(DEFAULT_POOL_OPTIONS)).toBe(true);
  });

  it('fills one backoff bound when only the other is given', () => {
    expect(
      resolvePoolOptions({ max: 1, createBackoff: { maxDelayMs: 500 } }).createBackoff,
    ).toEqual({
      initialDelayMs: 100,
      maxDelayMs: 500,
    });
  });

  it.each([
    [
      {},
      'Invalid option "max": is required. Fix: set max to the most resources the pool may hold, e.g. { max: 8 }',
    ],
    [
      { max: 0 },
      'Invalid option "max": must be an integer >= 1, got 0. Fix: set max to the most resources the pool may hold, e.g. 8',
    ],
    [{ max: 2.5 }, 'Invalid option "max": must be an integer >= 1, got 2.5.'],
    [{ max: '8' }, 'Invalid option "max": must be an integer >= 1, got "8".'],
    [
      { max: 2, min: 3 },
      'Invalid option "min": (3) exceeds max (2). Fix: lower min to at most 2 or raise max',
    ],
    [{ max: 2, min: -1 }, 'Invalid option "min": must be an integer >= 0, got -1.'],
    [
      { max: 2, acquireTimeoutMs: 0 },
      'Invalid option "acquireTimeoutMs": must be a finite number of ms >= 1, got 0. Fix: every acquire needs a deadline; use e.g. 5000',
    ],
    [
      { max: 2, acquireTimeoutMs: Infinity },
      'Invalid option "acquireTimeoutMs": must be a finite number of ms >= 1, got Infinity.',
    ],
    [
      { max: 2, acquireTimeoutMs: 3_000_000_000 },
      'Invalid option "acquireTimeoutMs": must be <= 2147483647 ms (the longest timer Node honours), got 3000000000.',
    ],
    [
      { max: 2, maxWaiting: -1 },
      'Invalid option "maxWaiting": must be an integer >= 0 or Infinity, got -1.',
    ],
    [
      { max: 2, idleTimeoutMs: -5 },
      'Invalid option "idleTimeoutMs": must be a finite number of ms >= 0, got -5. Fix: use 0 to keep idle resources, or e.g. 30000',
    ],
    [
      { max: 2, maxLifetimeMs: Number.NaN },
      'Invalid option "maxLifetimeMs": must be a finite number of ms >= 0, got NaN.',
    ],
    [
      { max: 2, lifetimeJitter: 1 },
      'Invalid option "lifetimeJitter": must be a fraction in [0, 1), got 1.',
    ],
    [
      { max: 2, validateAfterIdleMs: -1 },
      'Invalid option "validateAfterIdleMs": must be a finite number of ms >= 0, got -1.',
    ],
    [
      { max: 2, leakDetectionMs: '1s' },
      'Invalid option "leakDetectionMs": must be a finite number of ms >= 0, got "1s".',
    ],
    [
      { max: 2, captureLeakSite: 'yes' },
      'Invalid option "captureLeakSite": must be true, false or \'afterFirstLeak\', got "yes".',
    ],
    [{ max: 2, createBackoff: 100 }, 'Invalid option "createBackoff": must be an object, got 100.'],
    [
      { max: 2, createBackoff: null },
      'Invalid option "createBackoff": must be an object, got null.',
    ],
    [
      { max: 2, createBackoff: { maxDelayMs: null } },
      'Invalid option "createBackoff.maxDelayMs": must be a finite number of ms >= 1, got null.',
    ],
    [
      { max: 2, createBackoff: { initialDelayMs: 0 } },
      'Invalid option "createBackoff.initialDelayMs": must be a finite number of ms >= 1, got 0.',
    ],
    [
      { max: 2, createBackoff: { initialDelayMs: 500, maxDelayMs: 100 } },
      'Invalid option "createBackoff.maxDelayMs": (100) is below initialDelayMs (500). Fix: raise maxDelayMs to at least 500',
    ],
    [
      { max: 2, createBackoff: { jitter: true } },
      'Invalid option "createBackoff.jitter": unknown option. Fix: remove it; known options of "createBackoff" are: initialDelayMs, maxDelayMs',
    ],
    [
      { max: 2, failFastAfterCreateFailures: 1.5 },
      'Invalid option "failFastAfterCreateFailures": must be an integer >= 0, got 1.5.',
    ],
    [
      { max: 2, drainTimeoutMs: -1 },
      'Invalid option "drainTimeoutMs": must be a finite number of ms >= 0, got -1.',
    ],
    [{ max: 2, name: '' }, 'Invalid option "name": must be a non-empty string, got "".'],
    [
      { max: 2, clock: { now: () => 0 } },
      'Invalid option "clock": must be an object with now(), setTimeout(), clearTimeout(), got an object.',
    ],
    [
      { max: 2, logger: console.log },
      'Invalid option "logger": must be an object with debug(), info(), warn(), error(), got a function.',
    ],
    [
      { max: 2, metrics: {} },
      'Invalid option "metrics": must be an object with acquired(), acquireFailed(), leak(), got an object.',
    ],
    [{ max: 2, random: 0.5 }, 'Invalid option "random": must be a function, got 0.5.'],
  ])('rejects %j with an exact message', (options, message) => {
    expect(invalid(options).message).toContain(message);
  });

  it('rejects unknown keys, naming the known ones', () => {
    const error = invalid({ max: 2, acquireTimeout: 5000 });
    expect(error.key).toBe('acquireTimeout');
    expect(error.code).toBe('MQ_POOL_INVALID_OPTIONS');
    expect(error.message).toMatch(
      /^Invalid option "acquireTimeout": unknown option\. Fix: remove it; known options are: max, min, acquireTimeoutMs, /,
    );
  });

  it('rejects options that are not an object', () => {
    expect(invalid(null).message).toContain(
      'Invalid option "options": must be an object, got null.',
    );
  });

  it('prefixes keys for adapters that validate nested pool options', () => {
    try {
      resolvePoolOptions({ max: 0 }, 'rabbitmq.channelPool.');
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidPoolOptionsError).key).toBe('rabbitmq.channelPool.max');
    }
  });

  it('the Pool constructor validates options and the factory', () => {
    expect(() => new Pool(new TestFactory(), { max: 0 })).toThrow(InvalidPoolOptionsError);
    expect(() => new Pool({ create: async () => 1 } as never, { max: 1 })).toThrow(
      'Invalid option "factory": must be an object with create() and destroy() functions (and optionally validate()). Fix: pass a ResourceFactory<T>',
    );
  });

  it('drain rejects an invalid deadline', async () => {
    const pool = new Pool(new TestFactory(), { max: 1 });
    await expect(pool.drain(-1)).rejects.toThrow('Invalid option "deadlineMs"');
    await pool.close();
  });
});

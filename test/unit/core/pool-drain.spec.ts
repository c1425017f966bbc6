import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

import { describe, expect, it } from 'vitest';

import { LeaseReleasedError } from '../../../lib/core/errors/lease-released.error.js';
import { PoolClosedError } from '../../../lib/core/errors/pool-closed.error.js';
import { flush } from './support/fake-clock.js';
import { makePool } from './support/make-pool.js';
import { observe } from './support/observe.js';
import { TestFactory } from './support/test-factory.js';

describe('Pool drain', () => {
  it('destroys idle resources, then new acquires fail with PoolClosedError', async () => {
    const { pool, factory } = makePool({ max: 3, min: 3 });
    await flush();
    const report = await pool.drain(1000);
    expect(report).toEqual({ destroyed: 3, leasedAtDeadline: 0, durationMs: 0, timedOut: false });
    expect(factory.destroyed).toHaveLength(3);
    await expect(pool.acquire()).rejects.toThrow(PoolClosedError);
    await expect(pool.acquire()).rejects.toThrow(
      'pool "pool" is closed: no new leases are handed out',
    );
    expect(pool.stats()).toMatchObject({ closed: true, draining: false, size: 0 });
  });

  it('rejects queued waiters at once with PoolClosedError', async () => {
    const { pool } = makePool({ max: 1 });
    const lease = await pool.acquire();
    const waiters = [observe(pool.acquire()), observe(pool.acquire())];
    const draining = pool.drain(1000);
    await flush();
    expect(waiters.map((w) => w.status)).toEqual(['rejected', 'rejected']);
    expect(waiters[0]!.error).toBeInstanceOf(PoolClosedError);
    expect(pool.stats()).toMatchObject({ draining: true, waiting: 0 });
    await expect(pool.acquire()).rejects.toThrow('is draining');
    lease.release();
    await draining;
  });

  it('waits for leases to be released, destroying each as it comes back', async () => {
    const { pool, clock, factory } = makePool({ max: 2 });
    const [a, b] = await Promise.all([pool.acquire(), pool.acquire()]);
    const ra = a.resource;
    const draining = observe(pool.drain(10_000));
    await clock.tick(2000);
    a.release();
    await flush();
    expect(factory.destroyed).toEqual([ra]);
    expect(draining.status).toBe('pending');
    await clock.tick(1000);
    b.release();
    await flush();
    expect(draining.status).toBe('fulfilled');
    expect(draining.value).toEqual({
      destroyed: 2,
      leasedAtDeadline: 0,
      durationMs: 3000,
      timedOut: false,
    });
  });

  it('at the deadline, revokes leases still held and destroys their resources', async () => {
    const { pool, clock, factory } = makePool({ max: 2 });
    const held = await pool.acquire();
    const draining = observe(pool.drain(5000));
    await clock.tick(5000);
    expect(draining.status).toBe('fulfilled');
    expect(draining.value).toEqual({
      destroyed: 1,
      leasedAtDeadline: 1,
      durationMs: 5000,
      timedOut: true,
    });
    expect(factory.destroyed).toHaveLength(1);
    expect(() => held.resource).toThrow(LeaseReleasedError);
    expect(() => held.resource).toThrow('was revoked');
    held.release(); // late release: a no-op, never a second destroy
    await held.destroy();
    expect(factory.destroyed).toHaveLength(1);
    expect(pool.stats()).toMatchObject({ leased: 0, size: 0, closed: true });
  });

  it('is idempotent: a second drain returns the same report', async () => {
    const { pool } = makePool();
    const first = pool.drain(100);
    expect(pool.drain(5)).toBe(first);
    await first;
  });

  it('aborts creations in flight and destroys resources created after the drain began', async () => {
    const factory = new TestFactory();
    factory.manual = true;
    const { pool, clock } = makePool({ max: 2 }, factory);
    const waiter = observe(pool.acquire());
    await flush();
    const draining = observe(pool.drain(1000));
    await flush();
    expect(factory.signals[0]!.aborted).toBe(true);
    expect(waiter.status).toBe('rejected');
    factory.pendingCreates[0]!.resolve(factory.make());
    await flush();
    expect(factory.destroyed).toHaveLength(1);
    expect(draining.status).toBe('fulfilled');
    expect(draining.value).toMatchObject({ destroyed: 1, timedOut: false });
    await clock.tick(1000);
  });

  it('waits for factory.destroy() to settle, within the deadline', async () => {
    const factory = new TestFactory();
    let finish!: () => void;
    factory.destroy = () => new Promise<void>((resolve) => (finish = resolve));
    const { pool, clock } = makePool({ max: 1 }, factory);
    (await pool.acquire()).release();
    const draining = observe(pool.drain(1000));
    await clock.tick(500);
    expect(draining.status).toBe('pending');
    finish();
    await flush();
    expect(draining.value).toMatchObject({ destroyed: 1, timedOut: false, durationMs: 500 });
  });

  it('reports timedOut when factory.destroy() hangs past the deadline', async () => {
    const factory = new TestFactory();
    factory.destroy = () => new Promise<void>(() => undefined);
    const { pool, clock } = makePool({ max: 1 }, factory);
    (await pool.acquire()).release();
    const draining = observe(pool.drain(1000));
    await clock.tick(1000);
    expect(draining.value).toMatchObject({ destroyed: 1, leasedAtDeadline: 0, timedOut: true });
  });

  it('logs stats before and after, and emits drained with the report', async () => {
    const { pool, logger } = makePool({ max: 1, name: 'kafka:tx' });
    (await pool.acquire()).release();
    const reports: unknown[] = [];
    pool.on('drained', (r) => reports.push(r));
    const report = await pool.drain(100);
    expect(reports).toEqual([report]);
    const info = logger.lines.filter((l) => l.level === 'info');
    expect(info.map((l) => l.message)).toEqual([
      'pool "kafka:tx": draining',
      'pool "kafka:tx": drained',
    ]);
    expect(info[0]!.fields).toMatchObject({ idle: 1, size: 1 });
    expect(info[1]!.fields).toMatchObject({ size: 0, destroyed: 1, closed: true });
  });

  it('cancels every timer: deadlines, idle eviction, lifetimes, backoff, leak detection, clock cache', async () => {
    const factory = new TestFactory();
    const { pool, clock } = makePool(
      { max: 3, min: 1, idleTimeoutMs: 1000, maxLifetimeMs: 60_000, leakDetectionMs: 30_000 },
      factory,
    );
    await flush();
    const held = await pool.acquire();
    const [idle] = await Promise.all([pool.acquire()]);
    idle.release();
    factory.failForever();
    await pool.acquire().catch(() => undefined); // may be served; either way more timers
    void observe(pool.acquire({ timeoutMs: 20_000 }));
    void observe(pool.acquire());
    await flush();
    expect(clock.pendingTimers().length).toBeGreaterThanOrEqual(5);
    await pool.close();
    expect(clock.pendingTimers()).toEqual([]);
    void held;
  });
});

describe('Pool close', () => {
  it('revokes leases at once and destroys everything', async () => {
    const { pool, factory } = makePool({ max: 2 });
    const held = await pool.acquire();
    (await pool.acquire()).release();
    await pool.close();
    expect(factory.destroyed).toHaveLength(2);
    expect(() => held.resource).toThrow('was revoked');
    expect(pool.stats()).toMatchObject({ closed: true, size: 0, leased: 0, idle: 0 });
  });

  it('cuts a drain in progress short', async () => {
    const { pool } = makePool({ max: 1 });
    const held = await pool.acquire();
    const draining = observe(pool.drain(60_000));
    await flush();
    await pool.close();
    await flush();
    expect(draining.value).toMatchObject({ leasedAtDeadline: 1, timedOut: true });
    expect(() => held.resource).toThrow(LeaseReleasedError);
  });

  it('is idempotent', async () => {
    const { pool, factory } = makePool();
    (await pool.acquire()).release();
    await pool.close();
    await pool.close();
    expect(factory.destroyed).toHaveLength(1);
  });
});

describe('Pool timers and the process', () => {
  const script = fileURLToPath(new URL('./support/keep-alive.fixture.ts', import.meta.url));
  const run = promisify(execFile);

  it('a live pool with every timer armed never keeps the process alive', async () => {
    const started = Date.now();
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script], {
      timeout: 20_000,
    });
    expect(stdout.trim()).toBe('set up');
    expect(Date.now() - started).toBeLessThan(15_000);
  }, 30_000);

  it('a caller waiting in the queue keeps the process alive until its wait settles', async () => {
    const { stdout } = await run(process.execPath, ['--import', 'tsx', script, 'waiting'], {
      timeout: 20_000,
    });
    expect(stdout.trim().split('\n')).toEqual([
      'set up',
      expect.stringMatching(/^waiter settled: AcquireTimeoutError after (9\d\d|1\d\d\d)ms$/),
    ]);
  }, 30_000);
});

describe('Pool: a drain started while a validation fails', () => {
  it('rejects the waiter of that validation with PoolClosedError and leaves no timer', async () => {
    const factory = new TestFactory(true);
    const { pool, clock } = makePool(
      { max: 1, acquireTimeoutMs: 5_000, validateAfterIdleMs: 100, idleTimeoutMs: 0 },
      factory,
    );
    (await pool.acquire()).release();
    await clock.tick(200); // the idle resource now needs validation
    factory.isValid = () => false;
    let drained: Promise<unknown> | undefined;
    pool.on('destroyed', () => {
      drained ??= pool.drain(1_000);
    });
    const outcome = pool.acquire().then(
      () => 'leased',
      (e: unknown) => e,
    );
    await clock.tick(10);
    await drained;
    expect(await outcome).toBeInstanceOf(PoolClosedError);
    expect(clock.pendingTimers()).toEqual([]);
  });
});

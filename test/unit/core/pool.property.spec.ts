import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

import { LeaseReleasedError } from '../../../lib/core/errors/lease-released.error.js';
import type { Lease } from '../../../lib/core/lease.js';
import { Pool } from '../../../lib/core/pool.js';
import type { ResourceFactory } from '../../../lib/core/resource-factory.js';
import { FakeClock, flush } from './support/fake-clock.js';
import { recordingLogger } from './support/make-pool.js';
import { deferred, type TestResource } from './support/test-factory.js';

/**
 * Random interleavings of acquire (default or own timeout, with or without a signal), release,
 * release twice, destroy, abort, time passing (deadlines, idle eviction, lifetimes, backoff,
 * leaks), creations resolving or failing in any order, validation outcomes, retire, and drain.
 * After every step and at the end it checks:
 *   P1 no resource is leased to two holders;
 *   P2 resources alive + creations in flight <= max, as the factory sees it, at every create();
 *      pool stats are consistent and size <= max;
 *   P3 every acquire settles (after drain and enough time);
 *   P4 after drain, every created resource was destroyed exactly once (including ones whose
 *      creation resolved after the drain began), and no timer is left.
 */

const SEED = 20_251_127;
const RUNS = 1500;

type Command =
  | { kind: 'acquire'; timeout: 'default' | 'short' | 'long'; withSignal: boolean }
  | { kind: 'release'; pick: number }
  | { kind: 'destroy'; pick: number }
  | { kind: 'abort'; pick: number }
  | { kind: 'tick'; ms: number }
  | { kind: 'settleCreate'; pick: number; ok: boolean }
  | { kind: 'retire'; pick: number }
  | { kind: 'drain'; deadlineMs: number };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 18,
    arbitrary: fc.record({
      kind: fc.constant('acquire' as const),
      timeout: fc.constantFrom('default' as const, 'short' as const, 'long' as const),
      withSignal: fc.boolean(),
    }),
  },
  { weight: 15, arbitrary: fc.record({ kind: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('destroy' as const), pick: fc.nat() }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('abort' as const), pick: fc.nat() }) },
  {
    weight: 9,
    arbitrary: fc.record({
      kind: fc.constant('tick' as const),
      ms: fc.integer({ min: 1, max: 1500 }),
    }),
  },
  {
    weight: 12,
    arbitrary: fc.record({
      kind: fc.constant('settleCreate' as const),
      pick: fc.nat(),
      ok: fc.boolean(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('retire' as const), pick: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('drain' as const),
      deadlineMs: fc.integer({ min: 0, max: 2000 }),
    }),
  },
);

const configArb = fc
  .record({
    max: fc.integer({ min: 1, max: 4 }),
    minFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    maxWaiting: fc.integer({ min: 0, max: 5 }),
    acquireTimeoutMs: fc.integer({ min: 100, max: 1000 }),
    idleTimeoutMs: fc.constantFrom(0, 300),
    maxLifetimeMs: fc.constantFrom(0, 700),
    validate: fc.boolean(),
    validateAfterIdleMs: fc.integer({ min: 0, max: 200 }),
    validationOutcomes: fc.array(
      fc.constantFrom<'ok' | 'bad' | 'throw' | 'async-ok' | 'async-bad'>(
        'ok',
        'bad',
        'throw',
        'async-ok',
        'async-bad',
      ),
      { minLength: 1, maxLength: 5 },
    ),
    leakDetectionMs: fc.constantFrom(0, 400),
    failFastAfterCreateFailures: fc.constantFrom(0, 2),
    autoCreate: fc.boolean(),
    seed: fc.integer(),
  })
  .map(({ minFraction, ...rest }) => ({ ...rest, min: Math.floor(minFraction * rest.max) }));

type Config = typeof configArb extends fc.Arbitrary<infer C> ? C : never;

async function runScenario(config: Config, commands: Command[]): Promise<void> {
  const clock = new FakeClock();
  const violations: string[] = [];
  const created: TestResource[] = [];
  const destroyCount = new Map<TestResource, number>();
  const pendingCreates: ReturnType<typeof deferred<TestResource>>[] = [];
  let nextId = 1;
  let validations = 0;
  const alive = (): number => created.filter((r) => !destroyCount.has(r)).length;

  const factory: ResourceFactory<TestResource> = {
    create: () => {
      // P2, from the factory's side: this creation plus everything alive or in flight fits in max.
      if (alive() + pendingCreates.length + 1 > config.max) {
        violations.push(
          `create() with ${alive()} alive and ${pendingCreates.length} in flight (max ${config.max})`,
        );
      }
      if (config.autoCreate) {
        // Resolves at once (most runs then reach leasing, validation, eviction); `settleCreate` fails nothing.
        const resource = { id: nextId++ };
        created.push(resource);
        return Promise.resolve(resource);
      }
      const d = deferred<TestResource>();
      pendingCreates.push(d);
      return d.promise;
    },
    destroy: (resource) => {
      if (!created.includes(resource))
        violations.push(`destroy() of a resource never created: #${resource.id}`);
      destroyCount.set(resource, (destroyCount.get(resource) ?? 0) + 1);
      const holder = holders.get(resource);
      if (holder !== undefined) {
        // Only a drain past its deadline may destroy a leased resource, and it revokes the lease first.
        try {
          void holder.lease.resource;
          violations.push(`resource #${resource.id} destroyed while leased to a live holder`);
        } catch {
          /* revoked */
        }
      }
      return Promise.resolve();
    },
  };
  if (config.validate) {
    factory.validate = () => {
      const outcome = config.validationOutcomes[validations++ % config.validationOutcomes.length]!;
      switch (outcome) {
        case 'ok':
          return true;
        case 'bad':
          return false;
        case 'throw':
          throw new Error('validate threw');
        case 'async-ok':
          return Promise.resolve(true);
        default:
          return Promise.resolve(false);
      }
    };
  }

  let random = config.seed >>> 0;
  const pool = new Pool<TestResource>(factory, {
    max: config.max,
    min: config.min,
    maxWaiting: config.maxWaiting,
    acquireTimeoutMs: config.acquireTimeoutMs,
    idleTimeoutMs: config.idleTimeoutMs,
    maxLifetimeMs: config.maxLifetimeMs,
    validateAfterIdleMs: config.validateAfterIdleMs,
    leakDetectionMs: config.leakDetectionMs,
    failFastAfterCreateFailures: config.failFastAfterCreateFailures,
    createBackoff: { initialDelayMs: 50, maxDelayMs: 400 },
    clock,
    logger: recordingLogger(),
    random: () => {
      random = (Math.imul(random, 1_664_525) + 1_013_904_223) >>> 0;
      return random / 2 ** 32;
    },
  });

  interface Held {
    lease: Lease<TestResource>;
    resource: TestResource;
    ended: boolean;
  }
  const leases: Held[] = [];
  /** resource -> live holder: P1. */
  const holders = new Map<TestResource, Held>();
  const acquires: { settled: boolean; controller: AbortController | undefined }[] = [];
  let drained: Promise<unknown> | undefined;

  const acquire = (timeout: 'default' | 'short' | 'long', withSignal: boolean): void => {
    const controller = withSignal ? new AbortController() : undefined;
    const entry = { settled: false, controller };
    acquires.push(entry);
    const timeoutMs = timeout === 'default' ? undefined : timeout === 'short' ? 50 : 2500;
    pool.acquire({ signal: controller?.signal, timeoutMs }).then(
      (lease) => {
        entry.settled = true;
        const resource = lease.resource;
        if (holders.has(resource))
          violations.push(`resource #${resource.id} leased to two holders`);
        const held = { lease, resource, ended: false };
        holders.set(resource, held);
        leases.push(held);
      },
      () => {
        entry.settled = true;
      },
    );
  };

  const endLease = (held: Held): void => {
    if (!held.ended && holders.get(held.resource) === held) holders.delete(held.resource);
    held.ended = true;
  };

  const checkStats = (where: string): void => {
    const s = pool.stats();
    if (s.size !== s.idle + s.leased + s.creating + s.validating)
      violations.push(`${where}: size ${s.size} is not the sum of its parts`);
    if (s.size > s.max) violations.push(`${where}: size ${s.size} > max ${s.max}`);
    if (!s.closed && s.creating !== pendingCreates.length)
      violations.push(`${where}: creating ${s.creating} != in flight ${pendingCreates.length}`);
    const live = leases.filter((l) => !l.ended).length;
    // A lease revoked by the drain deadline is no longer counted, though its holder has not seen it end.
    if (!s.closed && !s.draining && s.leased !== live)
      violations.push(`${where}: leased ${s.leased} != live leases ${live}`);
  };

  for (const [step, command] of commands.entries()) {
    switch (command.kind) {
      case 'acquire':
        acquire(command.timeout, command.withSignal);
        break;
      case 'release': {
        const held = leases[command.pick % Math.max(1, leases.length)];
        if (held === undefined) break;
        if (held.ended) {
          // Use after release must throw, never hand out someone else's resource.
          try {
            void held.lease.resource;
            violations.push('a released lease still gave access to its resource');
          } catch (error) {
            if (!(error instanceof LeaseReleasedError))
              violations.push(`use after release threw ${String(error)}`);
          }
        }
        endLease(held);
        held.lease.release();
        break;
      }
      case 'destroy': {
        const held = leases[command.pick % Math.max(1, leases.length)];
        if (held === undefined || held.ended) break;
        endLease(held);
        void held.lease.destroy(new Error('broken'));
        break;
      }
      case 'abort': {
        const withSignal = acquires.filter((a) => a.controller !== undefined && !a.settled);
        withSignal[command.pick % Math.max(1, withSignal.length)]?.controller!.abort();
        break;
      }
      case 'tick':
        await clock.tick(command.ms);
        break;
      case 'settleCreate': {
        const index = command.pick % Math.max(1, pendingCreates.length);
        const d = pendingCreates[index];
        if (d === undefined) break;
        pendingCreates.splice(index, 1);
        if (command.ok) {
          const resource = { id: nextId++ };
          created.push(resource);
          d.resolve(resource);
        } else {
          d.reject(new Error('ECONNREFUSED'));
        }
        break;
      }
      case 'retire': {
        const resource = created[command.pick % Math.max(1, created.length)];
        if (resource !== undefined) pool.retire(resource, new Error('connection lost'));
        break;
      }
      case 'drain':
        drained ??= pool.drain(command.deadlineMs);
        break;
    }
    await flush();
    // Revoked leases (drain deadline) end without their holder knowing: stop tracking them.
    for (const held of leases) {
      if (!held.ended) {
        try {
          void held.lease.resource;
        } catch {
          endLease(held);
        }
      }
    }
    checkStats(`step ${step} (${command.kind})`);
    if (violations.length > 0) break;
  }

  // Wind down: drain, let creations in flight finish (some fail), let time pass.
  drained ??= pool.drain(1000);
  while (pendingCreates.length > 0) {
    const d = pendingCreates.shift()!;
    if (nextId % 2 === 0) d.reject(new Error('late failure'));
    else {
      const resource = { id: nextId++ };
      created.push(resource);
      d.resolve(resource);
    }
    await flush();
  }
  await clock.tick(10_000);
  await drained;
  await flush();

  // P3: every acquire settled.
  const unsettled = acquires.filter((a) => !a.settled).length;
  if (unsettled > 0) violations.push(`${unsettled} acquire(s) never settled`);
  // P4: every created resource destroyed exactly once; nothing left behind.
  for (const resource of created) {
    const count = destroyCount.get(resource) ?? 0;
    if (count !== 1) violations.push(`resource #${resource.id} destroyed ${count} times`);
  }
  const s = pool.stats();
  if (!s.closed || s.size !== 0) violations.push(`after drain: ${JSON.stringify(s)}`);
  if (clock.pendingTimers().length > 0)
    violations.push(`after drain: timers left ${JSON.stringify(clock.pendingTimers())}`);

  expect(violations).toEqual([]);
}

describe('Pool properties (seeded, random interleavings)', () => {
  it('never double-leases, stays within max, settles every waiter, destroys every resource exactly once', async () => {
    await fc.assert(
      fc.asyncProperty(
        configArb,
        fc.array(commandArb, { minLength: 10, maxLength: 60 }),
        (config, commands) => runScenario(config, commands),
      ),
      { seed: SEED, numRuns: RUNS, endOnFailure: false },
    );
  }, 60_000);
});

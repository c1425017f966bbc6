import { describe, expect, it } from 'vitest';

import { PoolInvariantError } from '../../../lib/core/errors/pool-invariant.error.js';
import { PoolLease, type LeaseOwner } from '../../../lib/core/lease.js';
import { PooledResource, ResourceState } from '../../../lib/core/pooled-resource.js';
import { makePool } from './support/make-pool.js';

// The pool's own checks of its invariants (pooled-resource.ts, pool.ts): they never fire in correct use,
// so they are driven here through the internals. Their messages are built out of line (to keep
// the hot path small enough for V8 to inline); these tests pin what they say.
describe('Pool invariant checks', () => {
  it('an illegal state transition throws PoolInvariantError naming the resource and both states', () => {
    const entry = new PooledResource({}, 0);
    entry.moveTo(ResourceState.Destroyed);
    expect(() => entry.moveTo(ResourceState.Idle)).toThrow(PoolInvariantError);
    expect(() => entry.moveTo(ResourceState.Leased)).toThrow(
      `resource #${entry.id}: illegal transition DESTROYED -> LEASED`,
    );
    expect(entry.state).toBe(ResourceState.Destroyed);
  });

  it('allowed transitions go through', () => {
    const entry = new PooledResource({}, 0);
    entry.moveTo(ResourceState.Leased);
    entry.moveTo(ResourceState.Idle);
    entry.moveTo(ResourceState.Validating);
    entry.moveTo(ResourceState.Leased);
    entry.moveTo(ResourceState.Destroyed);
    expect(entry.state).toBe(ResourceState.Destroyed);
  });

  it('a release or destroy by a lease that does not hold the resource throws PoolInvariantError', async () => {
    const { pool } = makePool({ max: 1 });
    const lease = (await pool.acquire()) as PoolLease<object>;
    const owner = (lease as unknown as { owner: LeaseOwner<object> }).owner;
    const impostor = new PoolLease(owner, lease.entry, undefined);
    expect(() => impostor.release()).toThrow(
      `resource #${lease.entry.id} released by a lease that does not hold it`,
    );
    const other = new PoolLease(owner, lease.entry, undefined);
    expect(() => other.destroy()).toThrow(PoolInvariantError);
    // The real holder is unaffected.
    expect(pool.stats()).toMatchObject({ leased: 1 });
    lease.release();
    expect(pool.stats()).toMatchObject({ leased: 0, idle: 1 });
  });
});

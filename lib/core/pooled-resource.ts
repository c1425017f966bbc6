import type { TimerHandle } from './clock.js';
import { PoolInvariantError } from './errors/pool-invariant.error.js';
import type { AcquisitionSite } from './acquisition-site.js';
import type { DestroyReason } from './pool-events.js';

/*
 * States of a resource inside a Pool
 * ==================================
 *
 *   factory.create() ──ok──► IDLE ──borrow (idle < validateAfterIdleMs)──────────► LEASED
 *   (counted in `creating`;   │ ▲ ◄────────────── release (still healthy) ─────────┘  │
 *    a failure never makes    │ │                                                      │
 *    a resource)   borrow     │ │ valid, but its waiter left                           │
 *                  (stale)    ▼ │                                                      │
 *                          VALIDATING ──valid──► LEASED                                │
 *                             │                                                        │
 *                             ▼ invalid / throw / too slow / retired                   ▼
 *                          DESTROYED ◄──────────────────────────────── lease.destroy(); release of a
 *                             ▲                                        retired or expired resource;
 *                             └── IDLE: idle timeout, lifetime,         drain past its deadline
 *                                 retire(), drain
 *
 * Allowed transitions (asserted by `moveTo`):
 *   IDLE → LEASED | VALIDATING | DESTROYED
 *   VALIDATING → LEASED | IDLE | DESTROYED
 *   LEASED → IDLE | DESTROYED
 *   DESTROYED → (none: terminal)
 *
 * Invariants the pool keeps:
 *   I1 a LEASED resource has exactly one live lease (`lease`); a lease ends exactly once, so a
 *      resource is never leased to two holders.
 *   I2 size = idle + validating + leased + creating ≤ max at every instant (a create is counted
 *      from the moment it starts; a destroy frees its slot at once).
 *   I3 a lease stays counted in `leased` until released, destroyed or revoked.
 *   I4 every created resource reaches DESTROYED exactly once, and `factory.destroy()` is called
 *      exactly once for it.
 *   I5 the idle stack holds exactly the IDLE resources, ordered by `idleSince` (bottom = idle
 *      longest), so eviction looks only at the bottom and borrowing takes the warmest at the top.
 */
export const ResourceState = {
  Idle: 0,
  Validating: 1,
  Leased: 2,
  Destroyed: 3,
} as const;
export type ResourceState = (typeof ResourceState)[keyof typeof ResourceState];

const STATE_NAMES = ['IDLE', 'VALIDATING', 'LEASED', 'DESTROYED'] as const;

/** Bit set of allowed targets per source state: one AND on the hot path. */
const ALLOWED: readonly number[] = [
  /* IDLE       */ (1 << ResourceState.Leased) |
    (1 << ResourceState.Validating) |
    (1 << ResourceState.Destroyed),
  /* VALIDATING */ (1 << ResourceState.Leased) |
    (1 << ResourceState.Idle) |
    (1 << ResourceState.Destroyed),
  /* LEASED     */ (1 << ResourceState.Idle) | (1 << ResourceState.Destroyed),
  /* DESTROYED  */ 0,
];

/** The pool's view of the live lease on a resource (implemented by `PoolLease`). */
export interface LeaseHandle {
  readonly site: AcquisitionSite | undefined;
  /** Ends the lease from the pool's side (drain past its deadline). */
  revoke(): void;
}

let nextId = 1;

/** The pool's record of one resource. */
export class PooledResource<T> {
  readonly id = nextId++;
  state: ResourceState = ResourceState.Idle;
  /** When it last became IDLE (coarse clock), for validate-after-idle and idle eviction. */
  idleSince: number;
  /** The live lease while LEASED (I1). */
  lease: LeaseHandle | undefined = undefined;
  /** Set when it must not be reused: destroyed at the next opportunity (release, validation end). */
  retireReason: DestroyReason | undefined = undefined;
  lifetimeTimer: TimerHandle | undefined = undefined;
  // Leak-detector bookkeeping (see leak-detector.ts): when the current lease began, and the
  // lease last reported as a leak (each lease is reported once).
  leasedAt = 0;
  leakReported: LeaseHandle | undefined = undefined;

  constructor(
    readonly resource: T,
    readonly createdAt: number,
  ) {
    this.idleSince = createdAt;
  }

  moveTo(next: ResourceState): void {
    // Small enough for V8 to inline on every hot path; the error is built out of line.
    if ((ALLOWED[this.state]! & (1 << next)) === 0) illegalTransition(this, next);
    this.state = next;
  }
}

function illegalTransition(entry: PooledResource<unknown>, next: ResourceState): never {
  throw new PoolInvariantError(
    `resource #${entry.id}: illegal transition ${STATE_NAMES[entry.state]} -> ${STATE_NAMES[next]}`,
  );
}

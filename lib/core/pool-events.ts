/** Why a resource was destroyed. */
export type DestroyReason =
  /** Idle longer than `idleTimeoutMs` while the pool held more than `min`. */
  | 'idle'
  /** Reached its (jittered) `maxLifetimeMs`. */
  | 'expired'
  /** `pool.retire()`: an adapter found it dead. */
  | 'retired'
  /** `validate()` returned false, threw or did not settle in time. */
  | 'invalid'
  /** `lease.destroy()`: its holder found it broken. */
  | 'broken'
  /** The pool drained or closed. */
  | 'drain';

/** Events of a `Pool<T>` with their payloads. Listeners that throw are logged and ignored. */
export interface PoolEvents<T> {
  created: { resource: T };
  /** A `factory.create()` failed; the next attempt waits `retryInMs` (full-jitter backoff). */
  createError: { error: unknown; attempt: number; retryInMs: number };
  /** `factory.destroy()` was called for this resource. */
  destroyed: { resource: T; reason: DestroyReason; error?: unknown };
  /**
   * A lease was held longer than `leakDetectionMs`: emitted once per lease. `site` is the stack of
   * its `acquire()` when one was recorded (see `captureLeakSite`: by default only for leases taken
   * after the pool's first leak); `leaks` counts reports since the pool was made.
   */
  leak: { resource: T; heldMs: number; site: string | undefined; leaks: number };
  /** `drain()` or `close()` finished. */
  drained: { destroyed: number; leasedAtDeadline: number; durationMs: number; timedOut: boolean };
}

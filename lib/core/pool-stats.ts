/** A snapshot of a pool's counters. Computed in O(1) from counters the pool keeps. */
export interface PoolStats {
  max: number;
  /** Resources counted against `max`: idle + leased + validating + creating. */
  size: number;
  idle: number;
  leased: number;
  creating: number;
  /** Idle resources being validated on borrow (they count against `max`). */
  validating: number;
  /** Callers queued in `acquire()`. */
  waiting: number;
  /** Leases that were reported as leaked since the pool started. */
  leaks: number;
  draining: boolean;
  closed: boolean;
}

/** What `drain()` did. */
export interface DrainReport {
  /** Resources destroyed during the drain (idle ones, released ones, revoked ones). */
  destroyed: number;
  /** Leases still held when the deadline passed; their resources were destroyed under them. */
  leasedAtDeadline: number;
  durationMs: number;
  /** True when leases or `factory.destroy()` calls were still outstanding at the deadline. */
  timedOut: boolean;
}

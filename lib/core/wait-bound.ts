/** A queue whose waiters count against a bound (a `WaiterQueue`). */
export interface CountedQueue {
  readonly length: number;
}

/**
 * One `maxWaiting` over every queue of callers waiting on one pool: the pool's own acquires and
 * the callers a client of the pool queues itself (the RabbitMQ publisher lane's publishes wait
 * for room on its channels, not for a lease). Each queue checks the same bound before it takes a
 * caller, so the number configured is the number that waits, whichever way callers come in.
 */
export class WaitBound {
  private readonly queues: CountedQueue[] = [];

  constructor(readonly maxWaiting: number) {}

  /** Counts `queue`'s waiters against this bound from now on. */
  join(queue: CountedQueue): void {
    this.queues.push(queue);
  }

  /** Callers waiting in every queue of the bound. */
  get waiting(): number {
    let waiting = 0;
    for (const queue of this.queues) waiting += queue.length;
    return waiting;
  }

  /**
   * Whether a new caller must be refused (`PoolExhaustedError`): the callers waiting, less the
   * `servable` ones that will be served without anyone releasing first (idle resources, free
   * slots, room on a client's channels), already fill `maxWaiting`.
   */
  isFull(servable: number): boolean {
    return this.waiting - servable >= this.maxWaiting;
  }
}

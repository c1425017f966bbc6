import { holdProcess, releaseProcess } from './keep-process-alive.js';

/** What the queue needs of a waiter: the flag it keeps while the waiter is in line. */
export interface Queueable {
  /** In the queue; set and cleared by the queue only. */
  queued: boolean;
}

/**
 * The one FIFO of waiters, for the pool's acquires (`PendingAcquire`) and for the callers a
 * client of the pool queues itself (the RabbitMQ publisher lane's publishes): an array with a
 * moving head (no shifting), like the leanest pools. A waiter that leaves early (abort, timeout)
 * is only marked (`queued = false`) and skipped when the head reaches it, so removal is O(1) too;
 * `length` counts waiters still queued.
 *
 * A queued waiter is a caller awaiting something, whose only pending work may be unref'ed timers
 * (a broker down, creates backing off): while the queue is not empty it holds the process open
 * (`holdProcess`), so an awaited call always settles — at its deadline at worst.
 */
export class WaiterQueue<W extends Queueable> {
  private items: (W | undefined)[] = [];
  private head = 0;
  length = 0;
  /** Waiters marked gone but still in `items` (past `head`). */
  private gone = 0;
  /** This queue holds the process open (it has waiters). */
  private holding = false;

  push(waiter: W): void {
    waiter.queued = true;
    this.items.push(waiter);
    if (this.length++ === 0) this.hold();
  }

  /** Puts a waiter back in front (it was first in line and keeps its turn). */
  unshift(waiter: W): void {
    waiter.queued = true;
    if (this.head > 0) this.items[--this.head] = waiter;
    else this.items.unshift(waiter);
    if (this.length++ === 0) this.hold();
  }

  shift(): W | undefined {
    const items = this.items;
    while (this.head < items.length) {
      const waiter = items[this.head];
      items[this.head++] = undefined;
      if (waiter !== undefined && !waiter.queued) this.gone--;
      if (waiter !== undefined && waiter.queued) {
        waiter.queued = false;
        if (--this.length === 0) this.reset();
        else if (this.head >= 1024 && this.head * 2 >= items.length) this.compact();
        return waiter;
      }
    }
    this.reset();
    return undefined;
  }

  /** The oldest queued waiter, left in the queue (for a client that serves it only if it can). */
  peek(): W | undefined {
    const items = this.items;
    while (this.head < items.length) {
      const waiter = items[this.head];
      if (waiter !== undefined && waiter.queued) return waiter;
      if (waiter !== undefined) this.gone--;
      items[this.head++] = undefined;
    }
    return undefined;
  }

  remove(waiter: W): void {
    if (!waiter.queued) return;
    waiter.queued = false;
    if (--this.length === 0) this.reset();
    // While nobody is served (broker down, pool saturated) `shift()` never runs to skip them, and
    // callers keep arriving: without this, every timed-out waiter (its promise, error and stack; a
    // publish's body) would stay here, and the deadline scan would walk them all. Amortised O(1):
    // a drop keeps at most a quarter of what it walks.
    else if (++this.gone > 64 && this.gone > 3 * this.length) this.dropGone();
  }

  /** Visits queued waiters from the oldest while `visit` returns true. */
  scan(visit: (waiter: W) => boolean): void {
    const items = this.items;
    for (let i = this.head; i < items.length; i++) {
      const waiter = items[i];
      if (waiter !== undefined && waiter.queued && !visit(waiter)) return;
    }
  }

  /** The consumed front outgrew the rest: drop it (amortised O(1) per waiter). */
  private compact(): void {
    this.items = this.items.slice(this.head);
    this.head = 0;
  }

  /** Keeps only the waiters still queued, in order. */
  private dropGone(): void {
    const kept: W[] = [];
    for (let i = this.head; i < this.items.length; i++) {
      const waiter = this.items[i];
      if (waiter !== undefined && waiter.queued) kept.push(waiter);
    }
    this.items = kept;
    this.head = 0;
    this.gone = 0;
  }

  /** Nothing queued: drop the skipped leftovers so the array does not grow without bound. */
  private reset(): void {
    this.items = [];
    this.head = 0;
    this.gone = 0;
    if (this.holding) {
      this.holding = false;
      releaseProcess();
    }
  }

  private hold(): void {
    if (this.holding) return;
    this.holding = true;
    holdProcess();
  }
}

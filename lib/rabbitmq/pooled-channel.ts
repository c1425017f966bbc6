import type { ConfirmChannel } from 'amqplib';
import type { ConnectionSlot } from './connection-slot.js';

const noop = (): void => undefined;

/**
 * The resource the channel pool holds: a confirm channel plus what is needed to know it is dead
 * without I/O. States: open -> closed (terminal). `closed` flips on the channel's own 'close' event or
 * when its connection is lost, whichever comes first; close listeners run exactly once.
 *
 * Invariant "a dead channel is never handed to another holder" lives here, in `markClosed()`: the
 * channel is retired in the pool (`retire`) BEFORE any close listener runs. So whatever a listener
 * does next (a holder releasing its lease, the publisher lane letting go of it), the pool already
 * knows: an idle channel is destroyed at once, a leased one is destroyed when its lease ends. No
 * caller needs an "alive ? release : destroy" branch.
 */
export class PooledChannel {
  private static nextId = 1;
  readonly id = PooledChannel.nextId++;
  closed = false;
  /** The broker's reason when it closed the channel (404, 406…) or the connection loss. */
  closeReason: Error | undefined;
  private closeListeners: Array<(reason: Error | undefined) => void> = [];

  constructor(
    readonly channel: ConfirmChannel,
    readonly slot: ConnectionSlot,
    readonly connectionGeneration: number,
    /** Takes the channel out of circulation in the pool (the pool's `retire`); a no-op for a channel the pool never saw. */
    private readonly retire: (pc: PooledChannel, reason: Error | undefined) => void = noop,
  ) {}

  /** Usable without I/O: open and its connection is still the one it was created on. */
  get alive(): boolean {
    return !this.closed && this.slot.isUp && this.slot.generation === this.connectionGeneration;
  }

  /**
   * Runs `listener` once when the channel closes (now if it is closed). Returns its unsubscribe: a
   * holder that lets go of a live channel (a rotated publishing channel) must remove its listener, or
   * every holder would stay reachable from the channel for its whole life.
   */
  onClose(listener: (reason: Error | undefined) => void): () => void {
    if (this.closed) {
      listener(this.closeReason);
      return noop;
    }
    this.closeListeners.push(listener);
    return () => {
      const i = this.closeListeners.indexOf(listener);
      if (i >= 0) this.closeListeners.splice(i, 1);
    };
  }

  /** Idempotent. Returns true the first time. Retires the channel in the pool, then runs the close listeners. */
  markClosed(reason: Error | undefined): boolean {
    if (this.closed) return false;
    this.closed = true;
    this.closeReason ??= reason;
    // First the pool, then the listeners: see the invariant in the class comment.
    this.retire(this, this.closeReason);
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const l of listeners) l(this.closeReason);
    return true;
  }
}

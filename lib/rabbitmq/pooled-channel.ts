import type { ConfirmChannel } from 'amqplib';
import type { ConnectionSlot } from './connection-slot.js';

/**
 * The resource the channel pool holds: a confirm channel plus what is needed to know it is dead
 * without I/O. States: open -> closed (terminal). `closed` flips on the channel's own 'close' event or
 * when its connection is lost, whichever comes first; close listeners run exactly once.
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
  ) {}

  /** Usable without I/O: open and its connection is still the one it was created on. */
  get alive(): boolean {
    return !this.closed && this.slot.isUp && this.slot.generation === this.connectionGeneration;
  }

  onClose(listener: (reason: Error | undefined) => void): void {
    if (this.closed) listener(this.closeReason);
    else this.closeListeners.push(listener);
  }

  /** Idempotent. Returns true the first time. */
  markClosed(reason: Error | undefined): boolean {
    if (this.closed) return false;
    this.closed = true;
    this.closeReason ??= reason;
    const listeners = this.closeListeners;
    this.closeListeners = [];
    for (const l of listeners) l(this.closeReason);
    return true;
  }
}

import type { ConfirmChannel } from 'amqplib';
import type { Lease } from '../core/lease.js';
import type { PooledChannel } from './pooled-channel.js';

/** Exclusive use of one pooled confirm channel until released. */
export interface ChannelLease {
  /** The channel. Throws `LeaseReleasedError` after `release()`. */
  readonly channel: ConfirmChannel;
  /** False once the broker or the connection closed the channel: release it and take another. */
  readonly alive: boolean;
  /** Idempotent. A channel the broker closed (404, 406…) is destroyed, never handed to anyone else. */
  release(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Adapts a core lease on a PooledChannel to the public ChannelLease. */
export class PoolChannelLease implements ChannelLease {
  constructor(readonly lease: Lease<PooledChannel>) {}

  get channel(): ConfirmChannel {
    return this.lease.resource.channel;
  }

  get alive(): boolean {
    try {
      return this.lease.resource.alive;
    } catch {
      return false;
    }
  }

  release(): void {
    let pc: PooledChannel;
    try {
      pc = this.lease.resource;
    } catch {
      return; // already released or revoked
    }
    // The factory has already asked the pool to retire a dead channel; destroying here is explicit.
    if (pc.alive) this.lease.release();
    else void this.lease.destroy(pc.closeReason).catch(() => undefined);
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}

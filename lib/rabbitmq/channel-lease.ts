import type { ConfirmChannel } from 'amqplib';
import type { Lease } from '../core/lease.js';
import { leasedChannel } from './leased-channel.js';
import type { PooledChannel } from './pooled-channel.js';

/** Exclusive use of one pooled confirm channel until released. */
export interface ChannelLease {
  /**
   * The channel. Throws `LeaseReleasedError` after `release()`, and so does every use of a
   * reference to it kept past the release (see leased-channel.ts).
   */
  readonly channel: ConfirmChannel;
  /** False once the broker or the connection closed the channel: release it and take another. */
  readonly alive: boolean;
  /** Idempotent. A channel the broker closed (404, 406…) was retired already: the pool destroys it. */
  release(): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Adapts a core lease on a PooledChannel to the public ChannelLease. */
export class PoolChannelLease implements ChannelLease {
  private view: ConfirmChannel | undefined = undefined;

  constructor(readonly lease: Lease<PooledChannel>) {}

  get channel(): ConfirmChannel {
    const pc = this.lease.resource; // throws LeaseReleasedError once ended
    return (this.view ??= leasedChannel(this.lease, pc.channel));
  }

  get alive(): boolean {
    try {
      return this.lease.resource.alive;
    } catch {
      return false;
    }
  }

  /** A dead channel was retired in the pool before anyone heard of its close, so a plain release destroys it. */
  release(): void {
    this.lease.release();
  }

  /** Takes the channel out of circulation (the pool closes and destroys it). Never rejects. */
  destroy(reason: unknown): Promise<void> {
    return this.lease.destroy(reason).catch(() => undefined);
  }

  [Symbol.asyncDispose](): Promise<void> {
    this.release();
    return Promise.resolve();
  }
}

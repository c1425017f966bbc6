import type { ConfirmChannel } from 'amqplib';
import type { ChannelLease } from './channel-lease.js';

/**
 * The channel of one async context (a `withChannel` call, a request, a decorated method). Held in the
 * pool's AsyncLocalStorage so nested `withChannel` calls reuse it instead of taking a second lease.
 *
 * Lazy: a scope may start without a lease and take one on first use (the Nest interceptor's
 * "one lease per request, only if the request uses one"). `end()` releases a lease the scope took
 * itself; a lease handed in by the caller stays the caller's to release.
 */
export class ChannelScope {
  private lease: ChannelLease | undefined;
  private pending: Promise<ChannelLease> | undefined;
  private ended = false;

  constructor(
    private readonly acquire: (opts?: {
      signal?: AbortSignal;
      timeoutMs?: number;
    }) => Promise<ChannelLease>,
    lease?: ChannelLease,
    private readonly ownsLease = lease === undefined,
  ) {
    this.lease = lease;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  /** The scope's channel if it holds a live one (no I/O, never acquires). */
  get channel(): ConfirmChannel | undefined {
    return this.lease?.alive ? this.lease.channel : undefined;
  }

  /** The scope's lease, taken on first use; a dead one (closed by the broker) is replaced. */
  async obtain(opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<ChannelLease> {
    if (this.ended) throw new Error('channel scope already ended: its lease was released');
    if (this.lease?.alive) return this.lease;
    if (this.lease && this.ownsLease) this.lease.release();
    this.lease = undefined;
    if (!this.ownsLease)
      throw new Error(
        'the channel handed to this scope was closed by the broker; acquire a new one',
      );
    this.pending ??= this.acquire(opts).then(
      (lease) => {
        this.pending = undefined;
        if (this.ended) {
          lease.release();
          throw new Error('channel scope ended while acquiring');
        }
        this.lease = lease;
        return lease;
      },
      (error: unknown) => {
        this.pending = undefined;
        throw error;
      },
    );
    return this.pending;
  }

  /** Idempotent. Releases the lease if the scope took it. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.ownsLease) this.lease?.release();
    this.lease = undefined;
  }
}

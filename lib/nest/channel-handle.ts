import type { ConfirmChannel } from 'amqplib';
import { ChannelScope, type LeaseSource } from '../rabbitmq/channel-scope.js';
import { ChannelScopeError } from './errors/channel-scope.error.js';

/** What a handle needs from its request. */
export interface HandleRequest {
  /** Cancels a waiting `get()` when the request ends or the client disconnects (created on first need). */
  signal(): AbortSignal;
}

/**
 * The request's channel of one pool, leased lazily: what `@CurrentChannel()` injects.
 *
 * ```ts
 * @Post() @UseInterceptors(ChannelInterceptor)
 * async create(@CurrentChannel() handle: ChannelHandle) {
 *   const ch = await handle.get();          // first call leases; later calls return the same channel
 *   ch.publish('orders', 'created', body);
 *   await ch.waitForConfirms();
 * }
 * ```
 *
 * A route that never calls `get()` never touches the pool. The handle IS the pool's channel scope
 * for the request (it extends ChannelScope, whose other members are internal), so
 * `pool.currentChannel()`, `pool.withChannel()` and `@WithChannel()` methods called during the
 * request use the same channel. It ends with the request: released when the response completes or
 * the handler fails; when the client disconnects first (or an outer interceptor such as
 * `timeout()` cancels the response), a pending `get()` is cancelled and a held channel is
 * destroyed rather than returned (the handler may still be using it, and a channel never reaches
 * two holders). After that `get()` rejects with `ChannelScopeError`, and the channel object itself
 * throws `LeaseReleasedError` on any use: do not keep it beyond the request.
 */
export class ChannelHandle extends ChannelScope {
  /** @internal Made by the request's channels (request-channels.ts), one per pool. */
  constructor(
    /** Registration name of the pool. */
    readonly poolName: string,
    source: LeaseSource,
    private readonly request: HandleRequest,
  ) {
    super(source);
  }

  /** True while a live channel is held for the request. */
  get leased(): boolean {
    return !this.isEnded && this.channel !== undefined;
  }

  /** The request's channel, leased on first call (bounded by the pool's `acquireTimeoutMs`). */
  get(): Promise<ConfirmChannel> {
    if (this.isEnded) return Promise.reject(this.closedError());
    const held = this.channel;
    if (held) return Promise.resolve(held);
    return this.obtain({ signal: this.request.signal() }).then(
      (lease) => lease.channel,
      (error: unknown) => {
        // Cancelled because the request ended: say so rather than a bare abort.
        throw this.isEnded ? this.closedError() : error;
      },
    );
  }

  private closedError(): ChannelScopeError {
    return new ChannelScopeError(
      this.isAbandoned
        ? `the channel of pool "${this.poolName}" was given up: the request ended (client disconnected, or its response was cancelled) before its handler finished`
        : `the channel of pool "${this.poolName}" was released when its request ended; do not keep a ChannelHandle beyond its request`,
    );
  }
}

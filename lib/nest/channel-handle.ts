import type { ConfirmChannel } from 'amqplib';
import type { ChannelScope } from '../rabbitmq/channel-scope.js';
import { ChannelScopeError } from './errors/channel-scope.error.js';

const HandleState = { Open: 0, Released: 1, Abandoned: 2 } as const;
type HandleState = (typeof HandleState)[keyof typeof HandleState];

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
 * A route that never calls `get()` never touches the pool. The lease is the pool's channel scope
 * for the request, so `pool.currentChannel()`, `pool.withChannel()` and `@WithChannel()` methods
 * called during the request use the same channel. It ends with the request: released when the
 * response completes or the handler fails; when the client disconnects first (or an outer
 * interceptor such as `timeout()` cancels the response), a pending `get()` is
 * cancelled and a held channel is closed and destroyed rather than returned (the handler may
 * still be using it, and a channel never reaches two holders). After that `get()` rejects with
 * `ChannelScopeError`; do not keep the channel object beyond the request.
 */
export class ChannelHandle {
  private state: HandleState = HandleState.Open;
  private waits = 0;

  constructor(
    /** Registration name of the pool. */
    readonly poolName: string,
    private readonly scope: ChannelScope,
    /** Cancels a waiting `get()` when the request ends or the client disconnects. Not exposed: it is reused across requests. */
    private readonly signal: AbortSignal,
  ) {}

  /** @internal True while a `get()` waits for the pool: only then is there something to cancel. */
  get waiting(): boolean {
    return this.waits > 0;
  }

  /** True while a live channel is held for the request. */
  get leased(): boolean {
    return this.state === HandleState.Open && this.scope.channel !== undefined;
  }

  /** The request's channel, leased on first call (bounded by the pool's `acquireTimeoutMs`). */
  get(): Promise<ConfirmChannel> {
    if (this.state !== HandleState.Open) return Promise.reject(this.closedError());
    const held = this.scope.channel;
    if (held) return Promise.resolve(held);
    this.waits++;
    return this.scope.obtain({ signal: this.signal }).then(
      (lease) => {
        this.waits--;
        if (this.state !== HandleState.Open) throw this.closedError();
        return lease.channel;
      },
      (error: unknown) => {
        this.waits--;
        // Cancelled because the request ended: say so rather than a bare abort.
        throw this.state === HandleState.Open ? error : this.closedError();
      },
    );
  }

  /** @internal The request completed or failed: the channel goes back to the pool. */
  release(): void {
    if (this.state !== HandleState.Open) return;
    this.state = HandleState.Released;
    this.scope.end();
  }

  /**
   * @internal The client disconnected while the handler may still run: its channel must never be
   * handed to another holder, so it is closed first; the scope's release then destroys a closed
   * channel instead of pooling it. Until the close completes, the slot stays leased.
   */
  abandon(): Promise<void> {
    if (this.state !== HandleState.Open) return Promise.resolve();
    this.state = HandleState.Abandoned;
    const channel = this.scope.channel;
    if (!channel) {
      this.scope.end(); // a pending obtain releases its late lease itself
      return Promise.resolve();
    }
    return channel.close().then(
      () => this.scope.end(),
      () => this.scope.end(),
    );
  }

  private closedError(): ChannelScopeError {
    return new ChannelScopeError(
      this.state === HandleState.Abandoned
        ? `the channel of pool "${this.poolName}" was given up: the request ended (client disconnected, or its response was cancelled) before its handler finished`
        : `the channel of pool "${this.poolName}" was released when its request ended; do not keep a ChannelHandle beyond its request`,
    );
  }
}

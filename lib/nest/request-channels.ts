import { ChannelScope } from '../rabbitmq/channel-scope.js';
import type { RabbitMqPool } from '../rabbitmq/rabbitmq-pool.js';
import { ChannelHandle, type HandleRequest } from './channel-handle.js';
import { ChannelScopeError } from './errors/channel-scope.error.js';

/** Node's response (Express) or the raw one behind Fastify's reply. */
interface ClosableResponse {
  readonly writableFinished?: boolean;
  on(event: 'close', listener: () => void): unknown;
  off(event: 'close', listener: () => void): unknown;
}

// Cancels the acquires of requests that end while still waiting; handles turn it into their own message.
const REQUEST_ENDED = new ChannelScopeError('the request ended');

/*
 * Creating an AbortController is among the costliest steps of a request scope, and almost every
 * request ends without aborting it. A controller that was never aborted carries nothing over (the
 * pool removes its listener when an acquire settles, and handles do not expose the signal), so
 * it is reused by the next request.
 */
const spareControllers: AbortController[] = [];
const MAX_SPARE_CONTROLLERS = 1_024;

/**
 * The channels of one request: for every running RabbitMQ pool, a `ChannelHandle` — that pool's
 * LAZY channel scope (no lease until first use). `ChannelInterceptor` enters them around the
 * handler, so `@CurrentChannel()`, `pool.currentChannel()`, `pool.withChannel()` and
 * `@WithChannel()` all share one lease per pool per request; it ends them when the response
 * completes, or abandons them when the request ends while the handler may still run.
 */
export class RequestChannels implements HandleRequest {
  private readonly handles: ChannelHandle[];
  private controller: AbortController | undefined = undefined;
  private ended = false;
  private clientGone = false;
  private response: ClosableResponse | undefined = undefined;
  private readonly onClose = (): void => {
    // 'close' also follows a normal 'finish'; only a close before the response finished is an abort.
    if (this.response?.writableFinished === false) this.abort();
  };

  constructor(pools: ReadonlyArray<readonly [string, RabbitMqPool]>) {
    this.handles = pools.map(([name, pool]) => new ChannelHandle(name, pool.leases, this));
  }

  /** Runs `fn` inside this request's scopes: one storage run whatever the number of pools. */
  run<T>(fn: () => T): T {
    return ChannelScope.runAll(this.handles, fn);
  }

  /** Treats a close of `response` before it finished as the client going away. */
  watch(response: unknown): void {
    const raw = ((response as { raw?: unknown } | undefined)?.raw ?? response) as
      Partial<ClosableResponse> | undefined;
    if (typeof raw?.on !== 'function' || typeof raw.off !== 'function') return;
    this.response = raw as ClosableResponse;
    // `on`, not `once`: every path out (end, abort) removes it, and `once` wraps it per request.
    this.response.on('close', this.onClose);
  }

  /** True once the client disconnected before the response was sent. */
  get aborted(): boolean {
    return this.clientGone;
  }

  signal(): AbortSignal {
    this.controller ??= spareControllers.pop() ?? new AbortController();
    return this.controller.signal;
  }

  /** The request completed, failed or was unsubscribed: leases go back to their pools. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.response?.off('close', this.onClose);
    let waiting = false;
    for (const handle of this.handles) {
      waiting ||= handle.waiting;
      handle.end();
    }
    const controller = this.controller;
    if (controller === undefined) return;
    if (waiting) controller.abort(REQUEST_ENDED);
    else if (spareControllers.length < MAX_SPARE_CONTROLLERS) spareControllers.push(controller);
  }

  /** The client disconnected mid-request: cancel waits, destroy held channels. */
  abort(): void {
    if (this.ended) return;
    this.clientGone = true;
    this.abandon('the client disconnected before the response was sent');
  }

  /**
   * The request ended while its handler may still run (client gone, or the response unsubscribed
   * early, e.g. by an outer `timeout()` interceptor): the handler may still use its channels, so
   * they are never returned for another holder. Waits are cancelled; held channels are destroyed
   * (and every reference the handler kept throws `LeaseReleasedError`).
   */
  abandon(why: string): void {
    if (this.ended) return;
    this.ended = true;
    this.response?.off('close', this.onClose);
    const reason = new ChannelScopeError(why);
    this.controller?.abort(reason);
    for (const handle of this.handles) void handle.abandon(reason);
  }
}

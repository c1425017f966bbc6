import { currentTag, runTagged } from '../rabbitmq/channel-context.js';
import type { ChannelScope } from '../rabbitmq/channel-scope.js';
import type { RabbitMqPool } from '../rabbitmq/rabbitmq-pool.js';
import { ChannelHandle } from './channel-handle.js';
import { ChannelScopeError } from './errors/channel-scope.error.js';
import { PoolNotRegisteredError } from './errors/pool-not-registered.error.js';
import { DEFAULT_POOL_NAME } from './mq-pool.constants.js';
import { poolRegistry } from './pool-registry.js';

interface Entry {
  readonly name: string;
  readonly pool: RabbitMqPool;
  readonly scope: ChannelScope;
  handle: ChannelHandle | undefined;
}

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
 * The channels of one request: for every running RabbitMQ pool, a LAZY channel scope of that pool
 * (no lease until first use). Entered by `ChannelInterceptor` around the handler, so
 * `@CurrentChannel()`, `pool.currentChannel()`, `pool.withChannel()` and `@WithChannel()` all
 * share one lease per pool per request.
 */
export class RequestChannels {
  private readonly entries: Entry[];
  private controller: AbortController | undefined = undefined;
  private ended = false;
  private clientGone = false;
  private response: ClosableResponse | undefined = undefined;
  private readonly onClose = (): void => {
    // 'close' also follows a normal 'finish'; only a close before the response finished is an abort.
    if (this.response?.writableFinished === false) this.abort();
  };

  constructor(pools: ReadonlyArray<readonly [string, RabbitMqPool]>) {
    this.entries = pools.map(([name, pool]) => ({
      name,
      pool,
      scope: pool.createChannelScope(),
      handle: undefined,
    }));
  }

  /** The request's channels of the current async context (entered by `run`), if any. */
  static current(): RequestChannels | undefined {
    const tag = currentTag();
    return tag instanceof RequestChannels ? tag : undefined;
  }

  /**
   * Runs `fn` inside this request's scopes (the pools' own, then ours). All of them live in the
   * one channel-context storage (see channel-context.ts), so nesting them costs no extra
   * propagation per promise.
   */
  run<T>(fn: () => T): T {
    if (this.entries.length === 1) {
      const { pool, scope } = this.entries[0]!;
      return pool.runInChannelScope(scope, () => runTagged(this, fn));
    }
    let next = (): T => runTagged(this, fn);
    for (const { pool, scope } of this.entries) {
      const inner = next;
      next = () => pool.runInChannelScope(scope, inner);
    }
    return next();
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

  /** The handle of pool `name` for this request (same one on every call). */
  handle(name: string = DEFAULT_POOL_NAME): ChannelHandle {
    const entry = this.entries.find((e) => e.name === name);
    if (!entry) {
      // Not running when the request started (or a Kafka-only name): the registry says which.
      poolRegistry.rabbitmq(name);
      throw PoolNotRegisteredError.unknownName(
        'rabbitmq',
        name,
        this.entries.map((e) => e.name),
      );
    }
    if (entry.handle) return entry.handle;
    if (this.ended) {
      throw new ChannelScopeError(
        `the request already ended; no channel of pool "${name}" can be leased for it`,
      );
    }
    this.controller ??= spareControllers.pop() ?? new AbortController();
    entry.handle = new ChannelHandle(name, entry.scope, this.controller.signal);
    return entry.handle;
  }

  /** The request completed, failed or was unsubscribed: leases go back to their pools. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    this.response?.off('close', this.onClose);
    let waiting = false;
    for (const entry of this.entries) {
      if (entry.handle) {
        waiting ||= entry.handle.waiting;
        entry.handle.release();
      } else {
        entry.scope.end(); // a lease taken through pool.withChannel() inside the request
      }
    }
    const controller = this.controller;
    if (controller === undefined) return;
    if (waiting) controller.abort(REQUEST_ENDED);
    else if (spareControllers.length < MAX_SPARE_CONTROLLERS) spareControllers.push(controller);
  }

  /** The client disconnected mid-request: cancel waits, close and destroy held channels. */
  abort(): void {
    if (this.ended) return;
    this.clientGone = true;
    this.abandon('the client disconnected before the response was sent');
  }

  /**
   * The request ended while its handler may still run (client gone, or the response unsubscribed
   * early, e.g. by an outer `timeout()` interceptor): the handler may still use its channels, so
   * they are never returned for another holder. Waits are cancelled; held channels are closed and
   * destroyed.
   */
  abandon(why: string): void {
    if (this.ended) return;
    this.ended = true;
    this.response?.off('close', this.onClose);
    this.controller?.abort(new ChannelScopeError(why));
    for (const entry of this.entries) {
      const handle =
        entry.handle ?? new ChannelHandle(entry.name, entry.scope, AbortSignal.abort());
      void handle.abandon();
    }
  }
}

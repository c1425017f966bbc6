import { AsyncLocalStorage } from 'node:async_hooks';
import type { ConfirmChannel } from 'amqplib';
import type { AcquireOptions } from '../core/pool.js';
import type { ChannelLease } from './channel-lease.js';

/** A lease a scope can end either way: back to the pool, or out of circulation. */
export interface ScopeLease extends ChannelLease {
  /** Ends the lease without returning the channel: the pool closes and destroys it. Never rejects. */
  destroy(reason: unknown): Promise<void>;
}

/** Where a scope takes its lease: the pool's `ChannelLeases` (an interface, so tests can stand in). */
export interface LeaseSource {
  acquire(opts?: AcquireOptions): Promise<ScopeLease>;
}

/** One frame of the async context: a scope and the frame it was entered in. */
interface Frame {
  readonly scope: ChannelScope;
  readonly parent: Frame | undefined;
}

/**
 * ONE AsyncLocalStorage for every pool's channel scopes (and so for the Nest request's channels,
 * which are scopes too). Why one: on Node 20 every AsyncLocalStorage in use propagates its store
 * to each promise and async resource created in its context, so a storage per pool plus one per
 * request multiplied that cost (measured here, per promise created: 56 ns with no storage, 131
 * with one, 199 with two, 236 with three; a request through ChannelInterceptor creates dozens).
 * Frames are few (one per pool and nesting level), so a lookup walks two or three of them.
 */
const context = new AsyncLocalStorage<Frame>();

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * The channel of one async context — a `withChannel` call, a `@WithChannel()` method, a request
 * through `ChannelInterceptor` — for one pool (`source`). Held in the async context so nested
 * `withChannel` calls and `currentChannel()` reuse it instead of taking a second lease.
 *
 * Lazy: the lease is taken on first use (`obtain`), so a request that never uses a channel never
 * touches the pool. States: open (no lease | acquiring | leased) -> ended (terminal): `end()`
 * returns the lease, `abandon()` takes it out of circulation (its holder may still be running, and
 * a channel never reaches two holders). A lease that arrives after the end is released at once.
 */
export class ChannelScope {
  private lease: ScopeLease | undefined = undefined;
  private pending: Promise<ScopeLease> | undefined = undefined;
  private waits = 0;
  private state: 'open' | 'ended' | 'abandoned' = 'open';

  constructor(readonly source: LeaseSource) {}

  /** The innermost scope of `source` in the current async context. */
  static current(source: LeaseSource): ChannelScope | undefined {
    for (let frame = context.getStore(); frame !== undefined; frame = frame.parent) {
      if (frame.scope.source === source) return frame.scope;
    }
    return undefined;
  }

  /**
   * Runs `fn` (and everything async it starts) inside `scopes`, entered in ONE storage run
   * whatever their number (a request enters one scope per pool).
   */
  static runAll<T>(scopes: readonly ChannelScope[], fn: () => T): T {
    let frame = context.getStore();
    for (const scope of scopes) frame = { scope, parent: frame };
    return frame === undefined ? fn() : context.run(frame, fn);
  }

  get isEnded(): boolean {
    return this.state !== 'open';
  }

  /** Ended by `abandon()`. */
  get isAbandoned(): boolean {
    return this.state === 'abandoned';
  }

  /** True while an `obtain()` waits for the pool: only then is there something to cancel. */
  get waiting(): boolean {
    return this.waits > 0;
  }

  /** The scope's channel if it holds a live one (no I/O, never acquires). */
  get channel(): ConfirmChannel | undefined {
    return this.lease?.alive ? this.lease.channel : undefined;
  }

  /** Runs `fn` (and everything async it starts) with this scope current for its pool. */
  run<T>(fn: () => T): T {
    return context.run({ scope: this, parent: context.getStore() }, fn);
  }

  /** The scope's lease, taken on first use; a dead one (closed by the broker) is replaced. */
  obtain(opts?: AcquireOptions): Promise<ScopeLease> {
    if (this.state !== 'open')
      return Promise.reject(new Error('channel scope already ended: its lease was released'));
    const held = this.lease;
    if (held?.alive) return Promise.resolve(held);
    // Dead: the pool retired it when it died, so this release destroys it.
    held?.release();
    this.lease = undefined;
    this.pending ??= this.take(opts);
    return this.pending;
  }

  /** Idempotent. The lease goes back to the pool. */
  end(): void {
    if (this.state !== 'open') return;
    this.state = 'ended';
    this.lease?.release();
    this.lease = undefined;
  }

  /**
   * Ends the scope while its holder may still be running (a client gone mid-request): the lease is
   * destroyed, not returned, so the channel never reaches another holder, and every reference the
   * holder kept throws `LeaseReleasedError` (leased-channel.ts). A pending `obtain()` gets its
   * late lease released (its caller never saw it). Idempotent.
   */
  abandon(reason: unknown): Promise<void> {
    if (this.state !== 'open') return RESOLVED;
    this.state = 'abandoned';
    const lease = this.lease;
    this.lease = undefined;
    return lease === undefined ? RESOLVED : lease.destroy(reason);
  }

  private async take(opts: AcquireOptions | undefined): Promise<ScopeLease> {
    this.waits++;
    let lease: ScopeLease;
    try {
      lease = await this.source.acquire(opts);
    } finally {
      this.waits--;
      this.pending = undefined;
    }
    if (this.state !== 'open') {
      lease.release();
      throw new Error('channel scope ended while acquiring');
    }
    this.lease = lease;
    return lease;
  }
}

/**
 * `fn` with the current scope's channel (re-entrant), or with a lease of its own, current for
 * everything `fn` starts and released when it settles.
 */
export async function withChannel<T>(
  source: LeaseSource,
  fn: (channel: ConfirmChannel) => Promise<T>,
  opts?: AcquireOptions,
): Promise<T> {
  const current = ChannelScope.current(source);
  if (current !== undefined && !current.isEnded) {
    const lease = await current.obtain(opts);
    return fn(lease.channel);
  }
  const scope = new ChannelScope(source);
  try {
    const lease = await scope.obtain(opts);
    return await scope.run(() => fn(lease.channel));
  } finally {
    scope.end();
  }
}

import type { ConfirmChannel } from 'amqplib';
import type { AcquireOptions } from '../core/pool.js';
import { runInScope, scopeOf } from './channel-context.js';
import type { ChannelLease } from './channel-lease.js';
import { ChannelScope } from './channel-scope.js';

/**
 * The channel scopes of one pool, in the async context (see channel-context.ts): what makes
 * `withChannel` re-entrant (a nested call reuses the enclosing scope's channel instead of taking a
 * second lease) and lets `currentChannel()`, `@WithChannel()` and the Nest interceptor share one
 * lease per async context.
 */
export class ChannelScopes {
  constructor(private readonly acquire: (opts?: AcquireOptions) => Promise<ChannelLease>) {}

  /** `fn` with the current scope's channel, or with a lease of its own released when it settles. */
  async withChannel<T>(
    fn: (channel: ConfirmChannel) => Promise<T>,
    opts?: AcquireOptions,
  ): Promise<T> {
    const current = scopeOf(this);
    if (current && !current.isEnded) {
      const lease = await current.obtain(opts);
      return fn(lease.channel);
    }
    const lease = await this.acquire(opts);
    const scope = new ChannelScope(this.acquire, lease, true);
    try {
      return await runInScope(this, scope, () => fn(lease.channel));
    } finally {
      scope.end();
    }
  }

  /** The channel of the current async context, if its scope holds a live one. */
  currentChannel(): ConfirmChannel | undefined {
    return scopeOf(this)?.channel;
  }

  /** Lazy (takes a lease on first use, released by `end()`), or around a lease the caller keeps. */
  create(lease?: ChannelLease): ChannelScope {
    return lease === undefined
      ? new ChannelScope(this.acquire)
      : new ChannelScope(this.acquire, lease, false);
  }

  /** Runs `fn` (and everything async it starts) with `scope` as the current channel scope. */
  run<T>(scope: ChannelScope, fn: () => T): T {
    return runInScope(this, scope, fn);
  }
}

import { AsyncLocalStorage } from 'node:async_hooks';
import type { ChannelScope } from './channel-scope.js';

/**
 * One frame of the channel context: a pool's channel scope (`owner` is that pool's scope
 * registry), or a caller's marker (`tag`, e.g. the Nest request's channels), and the frame it was
 * entered in.
 */
interface ChannelFrame {
  readonly owner: object | undefined;
  readonly scope: ChannelScope | undefined;
  /** The innermost tag, carried down into every frame entered below it. */
  readonly tag: unknown;
  readonly parent: ChannelFrame | undefined;
}

/**
 * ONE AsyncLocalStorage for every pool's channel scopes and for the Nest request's channels.
 * Why one: on Node 20 every AsyncLocalStorage in use propagates its store to each promise and
 * async resource created in its context, so a storage per pool plus one per request multiplied
 * that cost (measured here, per promise created: 56 ns with no storage, 131 with one, 199 with
 * two, 236 with three; a request through ChannelInterceptor creates dozens). Frames are few (one
 * per pool and nesting level), so a lookup walks two or three of them.
 */
const channelContext = new AsyncLocalStorage<ChannelFrame>();

/** The innermost scope entered by `owner` in the current async context. */
export function scopeOf(owner: object): ChannelScope | undefined {
  for (let frame = channelContext.getStore(); frame !== undefined; frame = frame.parent) {
    if (frame.owner === owner) return frame.scope;
  }
  return undefined;
}

/** Runs `fn` (and everything async it starts) with `scope` as `owner`'s current scope. */
export function runInScope<T>(owner: object, scope: ChannelScope, fn: () => T): T {
  const parent = channelContext.getStore();
  return channelContext.run({ owner, scope, tag: parent?.tag, parent }, fn);
}

/** Runs `fn` (and everything async it starts) with `tag` as the current tag. */
export function runTagged<T>(tag: unknown, fn: () => T): T {
  const parent = channelContext.getStore();
  return channelContext.run({ owner: undefined, scope: undefined, tag, parent }, fn);
}

/** The tag of the current async context (`runTagged`), if any. */
export function currentTag(): unknown {
  return channelContext.getStore()?.tag;
}

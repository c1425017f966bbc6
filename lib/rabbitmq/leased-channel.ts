import type { ConfirmChannel } from 'amqplib';
import type { Lease } from '../core/lease.js';
import type { PooledChannel } from './pooled-channel.js';

type Method = (...args: unknown[]) => unknown;

/**
 * The `ConfirmChannel` a lease hands out (`lease.channel`, the `withChannel` callback's argument):
 * the pooled channel behind a Proxy that checks the lease on every property read and every call.
 * Once the lease ended (released, destroyed, revoked by a drain) any use of a reference kept past
 * it throws `LeaseReleasedError`, instead of publishing on a channel that now belongs to someone
 * else (DESIGN §4, "used after release throws").
 *
 * Why a Proxy per lease and not the raw channel: the channel object outlives the lease (it goes
 * back to the pool), so only a per-lease object can tell a stale reference from the next holder's.
 * Methods run with the raw channel as `this`: amqplib keeps state on `this` and finishes RPCs in
 * callbacks that may run after the lease ended; routed through the Proxy they would throw inside
 * amqplib. Cost: one Proxy per lease and one small wrapper per method used; the publisher lane
 * does not lease per publish and writes to the raw channel, so `publish()` never pays it.
 */
export function leasedChannel(
  lease: Lease<PooledChannel>,
  channel: ConfirmChannel,
): ConfirmChannel {
  const guard = new LeaseGuard(lease);
  const proxy = new Proxy(channel, guard);
  guard.proxy = proxy;
  return proxy;
}

class LeaseGuard implements ProxyHandler<ConfirmChannel> {
  proxy: ConfirmChannel | undefined = undefined;
  /** The wrappers handed out, by method name: `ch.publish === ch.publish` holds as on the raw channel. */
  private methods: Map<PropertyKey, Method> | undefined = undefined;

  constructor(private readonly lease: Lease<PooledChannel>) {}

  get(target: ConfirmChannel, key: PropertyKey): unknown {
    this.check();
    const value: unknown = Reflect.get(target, key, target);
    if (typeof value !== 'function') return value;
    this.methods ??= new Map();
    let wrapped = this.methods.get(key);
    if (wrapped === undefined) {
      wrapped = this.wrap(target, value as Method);
      this.methods.set(key, wrapped);
    }
    return wrapped;
  }

  set(target: ConfirmChannel, key: PropertyKey, value: unknown): boolean {
    this.check();
    return Reflect.set(target, key, value, target);
  }

  /** A method fetched while leased and called later is checked again at the call. */
  private wrap(target: ConfirmChannel, method: Method): Method {
    return (...args: unknown[]): unknown => {
      this.check();
      const result = method.apply(target, args);
      // Chaining methods (`on`, `once`…) return the channel: hand back the guarded one, not the raw.
      return result === target ? this.proxy : result;
    };
  }

  /** Throws `LeaseReleasedError` once the lease ended (the core lease's `resource` getter does). */
  private check(): void {
    void this.lease.resource;
  }
}

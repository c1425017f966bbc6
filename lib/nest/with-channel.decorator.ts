import { copyMethodMetadata } from './copy-method-metadata.js';
import { DEFAULT_POOL_NAME } from './mq-pool.constants.js';
import { poolRegistry } from './pool-registry.js';

type AsyncMethod = (...args: never) => Promise<unknown>;

/**
 * Runs the decorated async method with one channel of pool `poolName` (default pool when omitted)
 * leased for its whole async run and released when it settles, success or failure. Inside,
 * `pool.currentChannel()` returns that channel (AsyncLocalStorage). Re-entrant: a nested
 * `@WithChannel()` method (or `pool.withChannel()`) on the same pool reuses it.
 *
 * Needs no DI: the pool is found by name in the process-wide registry when the method is CALLED,
 * so it works on any provider or controller; calling it before the app initialized (or after it
 * closed) rejects with `PoolNotRegisteredError` saying what to fix. Metadata of the method is
 * copied to the wrapper, so other decorators work in either order.
 */
export function WithChannel(poolName?: string) {
  const name = poolName ?? DEFAULT_POOL_NAME;
  return <M extends AsyncMethod>(
    _target: object,
    key: string | symbol,
    descriptor: TypedPropertyDescriptor<M>,
  ): void => {
    const original = descriptor.value;
    if (typeof original !== 'function') {
      throw new TypeError(`@WithChannel() decorates methods; "${String(key)}" is not a method`);
    }
    const wrapped = async function (this: unknown, ...args: unknown[]): Promise<unknown> {
      const pool = poolRegistry.rabbitmq(name);
      // Re-entrant through the pool's AsyncLocalStorage: inside another @WithChannel(), a
      // withChannel() or a ChannelInterceptor request, the scope's channel is reused.
      return pool.withChannel(() =>
        (original as unknown as (...a: unknown[]) => Promise<unknown>).apply(this, args),
      );
    };
    copyMethodMetadata(original, wrapped);
    descriptor.value = wrapped as unknown as M;
  };
}

import { createParamDecorator } from '@nestjs/common';
import { ChannelScope } from '../rabbitmq/channel-scope.js';
import { ChannelHandle } from './channel-handle.js';
import { ChannelScopeError } from './errors/channel-scope.error.js';
import { DEFAULT_POOL_NAME } from './mq-pool.constants.js';
import { poolRegistry } from './pool-registry.js';

/**
 * Injects the request's `ChannelHandle` of pool `poolName` (default pool when omitted). Requires
 * `ChannelInterceptor` on the route or controller; the channel is leased on the first
 * `handle.get()`, not by this decorator.
 */
export const CurrentChannel: (poolName?: string) => ParameterDecorator = createParamDecorator(
  (poolName: string | undefined): ChannelHandle => {
    const name = poolName ?? DEFAULT_POOL_NAME;
    // Throws PoolNotRegisteredError, saying what to fix, for an unknown name.
    const pool = poolRegistry.rabbitmq(name);
    // The interceptor entered the request's handle as the pool's scope; the innermost scope of
    // the pool is that handle (nested withChannel calls reuse it rather than enter their own).
    const scope = ChannelScope.current(pool.leases);
    if (!(scope instanceof ChannelHandle)) {
      throw new ChannelScopeError(
        `@CurrentChannel() was used on a route without ChannelInterceptor. Fix: add @UseInterceptors(ChannelInterceptor) to the route or its controller (pool "${name}" has no channel for a request that began before it started)`,
      );
    }
    return scope;
  },
);

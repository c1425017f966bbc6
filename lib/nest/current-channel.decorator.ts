import { createParamDecorator } from '@nestjs/common';
import type { ChannelHandle } from './channel-handle.js';
import { RequestChannels } from './request-channels.js';
import { ChannelScopeError } from './errors/channel-scope.error.js';
import { DEFAULT_POOL_NAME } from './mq-pool.constants.js';

/**
 * Injects the request's `ChannelHandle` of pool `poolName` (default pool when omitted). Requires
 * `ChannelInterceptor` on the route or controller; the channel is leased on the first
 * `handle.get()`, not by this decorator.
 */
export const CurrentChannel: (poolName?: string) => ParameterDecorator = createParamDecorator(
  (poolName: string | undefined): ChannelHandle => {
    const channels = RequestChannels.current();
    if (!channels) {
      throw new ChannelScopeError(
        '@CurrentChannel() was used on a route without ChannelInterceptor. Fix: add @UseInterceptors(ChannelInterceptor) to the route or its controller',
      );
    }
    return channels.handle(poolName ?? DEFAULT_POOL_NAME);
  },
);

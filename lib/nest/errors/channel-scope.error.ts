import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/**
 * A request-scoped channel was used outside its scope: `@CurrentChannel()` on a route without
 * `ChannelInterceptor`, or a `ChannelHandle` used after its request ended (response sent, handler
 * failed, or client disconnected). A handle never hands out a channel that went back to the pool.
 */
export class ChannelScopeError extends MqPoolError {
  readonly code = 'MQ_POOL_CHANNEL_SCOPE';
}

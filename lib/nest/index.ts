// Public surface of the Nest layer (internal tokens stay in mq-pool.internal-constants.ts).
export { MqBackpressureFilter } from './backpressure.filter.js';
export { ChannelHandle } from './channel-handle.js';
export { ChannelInterceptor } from './channel.interceptor.js';
export { CurrentChannel } from './current-channel.decorator.js';
export { ChannelScopeError } from './errors/channel-scope.error.js';
export { PoolNotRegisteredError } from './errors/pool-not-registered.error.js';
export { InjectKafkaPool, InjectRabbitMqPool } from './inject-pool.decorators.js';
export {
  InvalidMessageHandlersError,
  KafkaSubscribe,
  MessageContext,
  MessagePayload,
  MessageRejectedError,
  RabbitRpc,
  RabbitSubscribe,
  type KafkaSubscribeHandlerOptions,
  type MessageContextType,
  type RabbitRpcHandlerOptions,
  type RabbitSubscribeHandlerOptions,
} from './messaging/index.js';
export { DEFAULT_POOL_NAME, getPoolToken, type PoolKind } from './mq-pool.constants.js';
export { MqPoolModule } from './mq-pool.module.js';
export type {
  MqPoolFactoryOptions,
  MqPoolForRootAsyncOptions,
  MqPoolForRootOptions,
  MqPoolOptionsFactory,
} from './mq-pool.module-definition.js';
export {
  DEFAULT_MODULE_OPTIONS,
  type MqPoolLoggingOptions,
  type MqPoolMetricsOptions,
  type MqPoolModuleExtras,
  type MqPoolModuleOptions,
  type MqPoolShutdownOptions,
  type MqPoolStartupOptions,
} from './mq-pool-module-options.js';
export { NestMqLogger, type NestMqLogFormat, type NestMqLoggerOptions } from './nest-mq-logger.js';
export { WithChannel } from './with-channel.decorator.js';

// Public surface of the RabbitMQ adapter.
export type { ChannelLease } from './channel-lease.js';
export type {
  ConsumeHandler,
  ConsumeOptions,
  ConsumerHandle,
  RequeuePolicy,
} from './consumer-options.js';
export * from './errors/index.js';
export type { MessageContent, PublishOptions } from './publish-message.js';
export type { RabbitMessage } from './rabbit-message.js';
export type {
  RabbitDeadLetterTarget,
  RabbitHandler,
  RabbitMessaging,
  RabbitQueueOptions,
  RabbitRequestOptions,
  RabbitRpcOptions,
  RabbitSubscribeOptions,
  RabbitSubscription,
} from './subscribe-options.js';
export type {
  RabbitBindingDeclaration,
  RabbitExchangeDeclaration,
  RabbitQueueDeclaration,
  RabbitTopology,
} from './topology-options.js';
export {
  NOOP_RABBITMQ_METRICS,
  type ConnectionRole,
  type ConsumeOutcome,
  type PublishErrorReason,
  type RabbitMqMetricsRecorder,
  type RpcErrorReason,
} from './rabbitmq-metrics.js';
export type { RpcClientStats } from './rpc-client.js';
export {
  DEFAULT_RABBITMQ_OPTIONS,
  type RabbitMqPoolOptions,
  type ResolvedRabbitMqOptions,
} from './rabbitmq-options.js';
export { validateRabbitMqOptions } from './rabbitmq-options.validator.js';
export {
  RabbitMqPool,
  type ConnectionEvent,
  type RabbitMqPoolDeps,
  type RabbitMqPoolEvents,
} from './rabbitmq-pool.js';
export type {
  RabbitMqDrainReport,
  RabbitMqHealth,
  RabbitMqPoolStats,
} from './rabbitmq-pool-stats.js';

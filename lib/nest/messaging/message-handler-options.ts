import type { KafkaSubscribeOptions } from '../../kafka/kafka-subscribe-options.js';
import type { RabbitRpcOptions, RabbitSubscribeOptions } from '../../rabbitmq/subscribe-options.js';

/** What the handler decorators add to the pool methods' options. */
export interface HandlerPoolOption {
  /** Name of the `MqPoolModule` registration; default: the default pool. */
  pool?: string;
}

/**
 * Several handlers may consume one queue of one pool only when every one of them says so: they
 * then compete for its messages (each message reaches one of them). Without it, a second handler
 * on the same queue is a startup error, since it is usually a copy-paste mistake that would
 * silently split the traffic.
 */
export interface SharedQueueOption {
  shareQueue?: boolean;
}

/** `@RabbitSubscribe(options)`: `RabbitMqPool.subscribe()` options plus the pool and queue sharing. */
export interface RabbitSubscribeHandlerOptions
  extends RabbitSubscribeOptions, HandlerPoolOption, SharedQueueOption {}

/** `@RabbitRpc(options)`: `RabbitMqPool.serveRpc()` options plus the pool and queue sharing. */
export interface RabbitRpcHandlerOptions
  extends RabbitRpcOptions, HandlerPoolOption, SharedQueueOption {}

/** `@KafkaSubscribe(options)`: `KafkaPool.subscribe()` options plus the pool. */
export interface KafkaSubscribeHandlerOptions extends KafkaSubscribeOptions, HandlerPoolOption {}

/** The `ExecutionContext` type guards, interceptors and filters see: `context.getType()`. */
export type MessageContextType = 'rmq' | 'kafka';

/** One decorator use, as stored on the method. */
export type HandlerDeclaration =
  | { readonly decorator: 'RabbitSubscribe'; readonly options: RabbitSubscribeHandlerOptions }
  | { readonly decorator: 'RabbitRpc'; readonly options: RabbitRpcHandlerOptions }
  | { readonly decorator: 'KafkaSubscribe'; readonly options: KafkaSubscribeHandlerOptions };

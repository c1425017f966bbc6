/**
 * Internal metadata keys and parameter types of the declarative handlers (not exported from the
 * package root). The keys are private strings so they never collide with Nest's own metadata.
 */

/** On the method: the `@RabbitSubscribe`/`@RabbitRpc`/`@KafkaSubscribe` declarations (a list). */
export const MESSAGE_HANDLER_METADATA = 'nestjs-mq-pool:message-handler';

/** On the class, per method: what `@MessagePayload()`/`@MessageContext()` asked for. */
export const MESSAGE_PARAMS_METADATA = 'nestjs-mq-pool:message-params';

/**
 * On the class, per method: the parameter list the pipeline runs with (the user's parameter
 * decorators, the defaults for the rest, and the hidden invocation marker). Written at boot.
 */
export const RESOLVED_PARAMS_METADATA = 'nestjs-mq-pool:resolved-message-params';

/**
 * What a handler parameter receives. The numbers are those of @nestjs/microservices'
 * `RpcParamtype`: Nest hands pipes `type: 'body'` for 3 (so `ValidationPipe` validates the payload
 * as it does `@Payload()`) and `'custom'` for the others (left alone by `ValidationPipe`).
 */
export const MessageParamType = {
  /** The deserialized payload (parameter 0 by default). */
  PAYLOAD: 3,
  /** The `RabbitMessage` / `KafkaMessageContext` (parameter 1 by default). */
  MESSAGE: 6,
  /** Internal: carries the call's invocation record into the handler entry (message-handler-pipeline.ts). */
  INVOCATION: 99,
} as const;
export type MessageParamType = (typeof MessageParamType)[keyof typeof MessageParamType];

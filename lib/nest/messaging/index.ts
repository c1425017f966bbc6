// Declarative message handlers (DESIGN §6): the public names of the Nest side.
export { InvalidMessageHandlersError } from './errors/invalid-message-handlers.error.js';
export { MessageRejectedError } from './errors/message-rejected.error.js';
export { KafkaSubscribe, RabbitRpc, RabbitSubscribe } from './message-handler.decorators.js';
export type {
  KafkaSubscribeHandlerOptions,
  MessageContextType,
  RabbitRpcHandlerOptions,
  RabbitSubscribeHandlerOptions,
} from './message-handler-options.js';
export { MessageContext, MessagePayload } from './message-param.decorators.js';

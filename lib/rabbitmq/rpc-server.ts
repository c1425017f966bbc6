import type { ConsumeMessage } from 'amqplib';
import type { MqLogger } from '../core/logger.js';
import type { MessageSerializer } from '../core/message-serializer.js';
import { errorMessage } from '../core/with-deadline.js';
import type { ConsumeHandler } from './consumer-options.js';
import type { PublishOptions } from './publish-message.js';
import type { RabbitMqMetricsRecorder } from './rabbitmq-metrics.js';
import { errorReply, okReply, RPC_STATUS_HEADER, type EncodedReply } from './rpc-reply.js';
import type { RabbitHandler } from './subscribe-options.js';
import { toRabbitMessage } from './to-rabbit-message.js';

export interface RpcServerDeps {
  serializer: MessageSerializer;
  /** The pool's confirmed publish (`publish('', replyTo, …)` resolves on the broker's ack). */
  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: PublishOptions,
  ): Promise<void>;
  logger: MqLogger;
  metrics: RabbitMqMetricsRecorder;
}

/**
 * The consumer handler of `serveRpc()`: decodes the request, runs `handler`, and publishes its
 * return value — or its error's message and code — to the request's `replyTo` with the request's
 * correlation id. The delivery is acked (the Consumer acks when this resolves) only once the reply
 * is confirmed, so a crash before that leaves the request in its queue.
 *
 * A request whose payload does not decode gets an error reply too (the caller learns why at once,
 * rather than at its timeout). Replies are not `mandatory`: a client that went away (its reply-to
 * is gone) makes the reply unroutable, which is nobody's error. There is no retry: if the reply
 * cannot be published the handler rejects and the request is rejected, not requeued (see
 * `requeueOnError: false` where the consumer is made) — the caller times out.
 */
export function rpcConsumeHandler<T, R>(
  queue: string,
  handler: RabbitHandler<T, R>,
  deps: RpcServerDeps,
): ConsumeHandler {
  const answer = async (raw: ConsumeMessage): Promise<EncodedReply> => {
    try {
      const payload = deps.serializer.deserialize(
        raw.content,
        raw.properties.contentType as string | undefined,
      ) as T;
      const value = await handler(payload, toRabbitMessage(raw, 1));
      return okReply(value, deps.serializer);
    } catch (error) {
      deps.logger.debug('RPC handler failed; the caller gets its message and code', {
        queue,
        error: errorMessage(error),
      });
      return errorReply(error);
    }
  };
  return async (raw: ConsumeMessage): Promise<void> => {
    const reply = await answer(raw);
    deps.metrics.rpcServed(queue, reply.status);
    const replyTo = raw.properties.replyTo as unknown;
    if (typeof replyTo !== 'string' || replyTo === '') {
      deps.logger.debug('RPC request without replyTo handled; no reply sent', {
        queue,
        messageId: raw.properties.messageId as unknown,
      });
      return;
    }
    const options: PublishOptions = {
      contentType: reply.contentType,
      headers: { [RPC_STATUS_HEADER]: reply.status },
      persistent: false,
    };
    const correlationId = raw.properties.correlationId as unknown;
    if (typeof correlationId === 'string') options.correlationId = correlationId;
    // Direct reply-to (and any reply queue) is addressed through the default exchange.
    await deps.publish('', replyTo, reply.content, options);
  };
}

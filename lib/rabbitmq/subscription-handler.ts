import type { ConsumeMessage } from 'amqplib';
import type { Clock } from '../core/clock.js';
import { NonRetriableError } from '../core/errors/non-retriable.error.js';
import { PayloadDeserializationError } from '../core/errors/payload-deserialization.error.js';
import { retryDelayMs } from '../core/handler-retry-policy.js';
import type { MqLogger } from '../core/logger.js';
import type { MessageSerializer } from '../core/message-serializer.js';
import { errorMessage, sleep } from '../core/with-deadline.js';
import { activeTracer, recordFailure, recordingActiveSpan } from '../telemetry/index.js';
import type { ConsumeHandler } from './consumer-options.js';
import type { RabbitMqMetricsRecorder } from './rabbitmq-metrics.js';
import { attemptOf, deadLetterCopy, retryCopy, type Republish } from './retry-headers.js';
import { delayQueueName } from './retry-queues.js';
import type { RabbitHandler } from './subscribe-options.js';
import type { ResolvedSubscribeOptions } from './subscribe-options.validator.js';
import { toRabbitMessage } from './to-rabbit-message.js';

export interface SubscriptionHandlerDeps {
  serializer: MessageSerializer;
  /** Confirmed publish through the pool (the publisher lane). */
  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Republish['options'],
  ): Promise<void>;
  /**
   * Pause before a message whose copy could not be published goes back to the queue: a target that
   * cannot take copies (a dead-letter exchange that routes nowhere, a broker alarm) must not turn
   * the message into a hot redelivery loop.
   */
  requeueDelayMs: number;
  metrics: RabbitMqMetricsRecorder;
  clock: Clock;
  logger: MqLogger;
}

/**
 * Turns a declarative handler into the Consumer's handler: decode, run, then on failure apply the
 * retry policy. The returned function resolves (→ the Consumer acks) once the message is handled,
 * or once its retry copy or dead letter is CONFIRMED by the broker; it rejects only when that
 * publish failed, and the Consumer then requeues the original (the subscription's consumer runs
 * with `requeueOnError: true`). So a message is never lost between the two queues, and a poison
 * message leaves the queue at once instead of looping hot or blocking the messages behind it.
 */
export function subscriptionHandler<T>(
  spec: ResolvedSubscribeOptions,
  handler: RabbitHandler<T>,
  deps: SubscriptionHandlerDeps,
): ConsumeHandler {
  const { queue } = spec;
  const { clock, metrics } = deps;
  return async (raw: ConsumeMessage): Promise<void> => {
    const attempt = attemptOf(raw);
    const startedAt = clock.now();
    try {
      const payload = decode(deps.serializer, raw) as T;
      await handler(payload, toRabbitMessage(raw, attempt));
    } catch (error) {
      metrics.handlerFailed(queue, (clock.now() - startedAt) / 1000);
      if (activeTracer() !== undefined) {
        const span = recordingActiveSpan();
        if (span !== undefined) recordFailure(span, error);
      }
      await afterFailure(raw, attempt, error);
      return;
    }
    metrics.handled(queue, (clock.now() - startedAt) / 1000);
  };

  async function afterFailure(raw: ConsumeMessage, attempt: number, error: unknown): Promise<void> {
    const messageId = raw.properties.messageId as unknown;
    const retriable = !(error instanceof NonRetriableError);
    if (retriable && attempt < spec.retry.attempts) {
      const delayMs = retryDelayMs(spec.retry, attempt);
      await send(raw, retryCopy(raw, attempt, delayQueueName(queue, delayMs)));
      metrics.retried(queue);
      deps.logger.warn('handler failed; retrying', {
        queue,
        attempt,
        of: spec.retry.attempts,
        delayMs,
        messageId,
        error: errorMessage(error),
      });
      return;
    }
    const why = retriable ? `after ${attempt} attempt(s)` : 'not retriable';
    if (spec.deadLetter === false) {
      metrics.discarded(queue);
      deps.logger.warn(`handler failed (${why}); message dropped (deadLetter: false)`, {
        queue,
        attempt,
        messageId,
        error: errorMessage(error),
      });
      return;
    }
    const target = spec.deadLetter;
    const copy = deadLetterCopy(raw, target, {
      queue,
      attempts: attempt,
      error,
      failedAt: new Date(),
    });
    await send(raw, copy);
    metrics.deadLettered(queue);
    deps.logger.warn(`handler failed (${why}); message dead-lettered`, {
      queue,
      attempt,
      messageId,
      exchange: copy.exchange,
      routingKey: copy.routingKey,
      error: errorMessage(error),
    });
  }

  async function send(raw: ConsumeMessage, copy: Republish): Promise<void> {
    try {
      await deps.publish(copy.exchange, copy.routingKey, raw.content, copy.options);
    } catch (error) {
      deps.logger.error('could not republish a failed message; it is requeued', {
        queue,
        exchange: copy.exchange,
        routingKey: copy.routingKey,
        requeueInMs: deps.requeueDelayMs,
        error: errorMessage(error),
      });
      await sleep(deps.requeueDelayMs, clock);
      throw error;
    }
  }
}

/** The payload; any failure of the serializer means the bytes cannot be handled, ever. */
function decode(serializer: MessageSerializer, raw: ConsumeMessage): unknown {
  const contentType = raw.properties.contentType as string | undefined;
  try {
    return serializer.deserialize(raw.content, contentType);
  } catch (error) {
    throw error instanceof NonRetriableError
      ? error
      : new PayloadDeserializationError(contentType, error);
  }
}

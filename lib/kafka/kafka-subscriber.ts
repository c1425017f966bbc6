import type { Clock } from '../core/clock.js';
import { NonRetriableError } from '../core/errors/non-retriable.error.js';
import { PayloadDeserializationError } from '../core/errors/payload-deserialization.error.js';
import { retryDelayMs } from '../core/handler-retry-policy.js';
import type { MqLogger } from '../core/logger.js';
import type { MessageSerializer } from '../core/message-serializer.js';
import { errorMessage } from '../core/with-deadline.js';
import { RetryInterruptedError } from './errors/retry-interrupted.error.js';
import { type DeadLetterReason, deadLetterFailure, deadLetterRecord } from './kafka-dead-letter.js';
import type { KafkaMetricsRecorder } from './kafka-metrics.js';
import type { KafkaHandler, KafkaMessageContext } from './kafka-subscribe-options.js';
import type { ResolvedSubscribeOptions } from './kafka-subscribe-options.validator.js';
import type {
  KafkaEachMessagePayload,
  KafkaHeaders,
  KafkaProducerRecord,
  KafkaReceivedMessage,
  KafkaRecordPosition,
} from './kafka-types.js';
import { waitBeforeRetry } from './retry-wait.js';

export interface KafkaSubscriberContext {
  poolName: string;
  serializer: MessageSerializer;
  /** The pool's shared idempotent producer; resolves once the broker acknowledged. */
  send(record: KafkaProducerRecord): Promise<unknown>;
  clock: Clock;
  logger: MqLogger;
  metrics: KafkaMetricsRecorder;
  scrub(text: string): string;
  /** How often a retry wait heartbeats: the consumer's heartbeat interval. */
  heartbeatEveryMs: number;
  /** Aborted when the consumer starts to stop: retry waits end at once. */
  stopSignal: AbortSignal;
}

/** Records remembered as "attempts spent, dead-letter send failed": a few per failing partition. */
const MAX_REMEMBERED = 1_000;
const HANDLED = Symbol('handled');

/**
 * The `eachMessage` of a `subscribe()`: decodes the record, calls the handler, retries it in
 * process after the policy's delay, then writes it to its dead-letter topic (or drops it). The
 * managed consumer below commits the offset once this resolves, so a record moves on only when
 * it was handled or the dead-letter topic acknowledged its copy; any throw from here leaves it
 * uncommitted, to be delivered again.
 *
 * Order: the next record of a partition waits for this one, retries included (Kafka's order is
 * per partition). A retry wait heartbeats, so the member keeps its partitions while it waits.
 */
export class KafkaSubscriber {
  /** Records whose attempts were spent but whose dead-letter send failed, by position. */
  private readonly exhausted = new Map<string, DeadLetterReason>();

  constructor(
    private readonly options: ResolvedSubscribeOptions,
    private readonly handler: KafkaHandler<unknown>,
    private readonly ctx: KafkaSubscriberContext,
  ) {}

  async handle(payload: KafkaEachMessagePayload): Promise<void> {
    const { topic, partition, message } = payload;
    const position: KafkaRecordPosition = { topic, partition, offset: message.offset };
    const id = `${topic}\u0000${partition}\u0000${message.offset}`;
    // Delivered again after its dead-letter send failed: the handler already had its attempts.
    const spent = this.exhausted.get(id);
    if (spent) return this.deadLetter(position, message, spent, id);
    const policy = this.options.retry;
    for (let attempt = 1; ; attempt++) {
      let decoded: unknown;
      try {
        decoded = this.decode(message);
      } catch (error) {
        return this.deadLetter(
          position,
          message,
          { error, attempts: attempt, failedAt: new Date() },
          id,
        );
      }
      const outcome = await this.call(decoded, payload, attempt);
      if (outcome === HANDLED) return;
      if (outcome instanceof NonRetriableError || attempt >= policy.attempts) {
        const reason = { error: outcome, attempts: attempt, failedAt: new Date() };
        return this.deadLetter(position, message, reason, id);
      }
      const delayMs = retryDelayMs(policy, attempt);
      this.ctx.logger.debug('Kafka handler failed; retrying', {
        ...this.fields(position),
        attempt,
        retryInMs: delayMs,
        error: this.ctx.scrub(errorMessage(outcome)),
      });
      await this.waitForRetry(delayMs, payload, position, attempt + 1);
      this.ctx.metrics.handlerOutcome(topic, 'retried');
    }
  }

  /** The payload by the pool's serializer and the `content-type` header; a tombstone is `null`. */
  private decode(message: KafkaReceivedMessage): unknown {
    if (message.value === null) return null;
    const contentType = headerText(message.headers?.['content-type']);
    try {
      return this.ctx.serializer.deserialize(message.value, contentType);
    } catch (error) {
      throw error instanceof NonRetriableError
        ? error
        : new PayloadDeserializationError(contentType, error);
    }
  }

  /** One handler call, measured; resolves with HANDLED or what the handler threw. */
  private async call(
    decoded: unknown,
    payload: KafkaEachMessagePayload,
    attempt: number,
  ): Promise<unknown> {
    const { topic, partition, message } = payload;
    const context: KafkaMessageContext = {
      topic,
      partition,
      offset: message.offset,
      key: message.key,
      headers: message.headers ?? {},
      attempt,
      raw: message,
    };
    const start = this.ctx.clock.now();
    let outcome: unknown = HANDLED;
    try {
      await this.handler(decoded, context);
    } catch (error) {
      outcome = error;
    }
    this.ctx.metrics.handlerRan(topic, (this.ctx.clock.now() - start) / 1000);
    this.ctx.metrics.handlerOutcome(topic, outcome === HANDLED ? 'handled' : 'failed');
    return outcome;
  }

  private async waitForRetry(
    delayMs: number,
    payload: KafkaEachMessagePayload,
    position: KafkaRecordPosition,
    nextAttempt: number,
  ): Promise<void> {
    try {
      await waitBeforeRetry(delayMs, {
        clock: this.ctx.clock,
        signal: this.ctx.stopSignal,
        heartbeat: () => payload.heartbeat(),
        heartbeatEveryMs: this.ctx.heartbeatEveryMs,
        onAbort: () => new RetryInterruptedError(position, nextAttempt),
      });
    } catch (error) {
      this.ctx.logger.info('Kafka retry wait ended early; the record is delivered again', {
        ...this.fields(position),
        nextAttempt,
        error: this.ctx.scrub(errorMessage(error)),
      });
      throw error;
    }
  }

  /** Writes the record to its dead-letter topic (or drops it); resolves once acknowledged. */
  private async deadLetter(
    position: KafkaRecordPosition,
    message: KafkaReceivedMessage,
    reason: DeadLetterReason,
    id: string,
  ): Promise<void> {
    const target = this.options.deadLetterTopics.get(position.topic) ?? `${position.topic}.dlq`;
    const fields = {
      ...this.fields(position),
      attempts: reason.attempts,
      error: this.ctx.scrub(errorMessage(reason.error)),
    };
    if (target === false) {
      this.ctx.metrics.handlerOutcome(position.topic, 'discarded');
      this.ctx.logger.warn('Kafka record failed and was dropped (deadLetterTopic: false)', fields);
      return;
    }
    try {
      await this.ctx.send(deadLetterRecord(target, position, message, reason, this.ctx.scrub));
    } catch (error) {
      this.remember(id, reason);
      const failure = deadLetterFailure(target, position, error, this.ctx.scrub);
      this.ctx.logger.error(failure.message, {
        ...fields,
        deadLetterTopic: target,
        code: failure.code,
      });
      throw failure;
    }
    this.exhausted.delete(id);
    this.ctx.metrics.handlerOutcome(position.topic, 'dead_lettered');
    this.ctx.logger.warn('Kafka record dead-lettered', { ...fields, deadLetterTopic: target });
  }

  private remember(id: string, reason: DeadLetterReason): void {
    this.exhausted.delete(id);
    this.exhausted.set(id, reason);
    if (this.exhausted.size > MAX_REMEMBERED) {
      const oldest = this.exhausted.keys().next().value;
      if (oldest !== undefined) this.exhausted.delete(oldest);
    }
  }

  private fields(position: KafkaRecordPosition): Record<string, unknown> {
    return { pool: this.ctx.poolName, groupId: this.options.groupId, ...position };
  }
}

/** A header's value as text (kafkajs delivers Buffers; the first of a repeated header). */
function headerText(value: KafkaHeaders[string]): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined ? undefined : first.toString();
}

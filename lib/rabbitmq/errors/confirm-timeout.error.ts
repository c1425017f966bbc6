import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/**
 * No confirm (ack or nack) arrived within `confirmTimeoutMs`. The outcome is unknown: the message may
 * still be stored. Retrying with the same `messageId` and deduplicating on the consumer side is safe.
 */
export class ConfirmTimeoutError extends MqPoolError {
  readonly code = 'MQ_POOL_CONFIRM_TIMEOUT';

  constructor(
    readonly timeoutMs: number,
    readonly messageId: string,
  ) {
    super(
      `No broker confirm for message ${messageId} within ${timeoutMs}ms; the outcome is unknown. ` +
        'Raise rabbitmq.confirmTimeoutMs if the broker is slow, or retry with the same messageId (consumers should deduplicate on it).',
    );
  }
}

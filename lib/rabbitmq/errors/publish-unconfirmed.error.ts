import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/**
 * The channel carrying a publish died before the broker confirmed it, and the one retry did not
 * succeed either. The outcome is unknown: the message may be in the queue. Never treat as sent;
 * retrying with the same `messageId` is safe when consumers deduplicate on it.
 */
export class PublishUnconfirmedError extends MqPoolError {
  readonly code = 'MQ_POOL_PUBLISH_UNCONFIRMED';

  constructor(
    readonly messageId: string,
    readonly attempts: number,
    cause: unknown,
  ) {
    super(
      `Message ${messageId} was not confirmed: its channel closed after ${attempts} attempt(s) ` +
        `(${describe(cause)}). It may or may not have reached the broker; retry with the same messageId and deduplicate on it.`,
      { cause },
    );
  }
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}

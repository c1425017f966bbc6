import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/** A `mandatory` publish was returned by the broker (`basic.return`): no queue was bound for it. */
export class UnroutableMessageError extends MqPoolError {
  readonly code = 'MQ_POOL_UNROUTABLE';

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly messageId: string,
    readonly replyCode: number,
    readonly replyText: string,
  ) {
    super(
      `Message ${messageId} to exchange "${exchange}" with routing key "${routingKey}" was returned as unroutable ` +
        `(${replyCode} ${replyText}). Bind a queue for this routing key, or publish without mandatory.`,
    );
  }
}

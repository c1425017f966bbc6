import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/**
 * The broker closed the publishing channel because of this publish (e.g. 404: the exchange does not
 * exist; 403: the exchange is internal). The message was not stored. Not retried: it would fail again
 * and take other publishes' channel down with it. `cause` is the broker's channel error.
 */
export class PublishFailedError extends MqPoolError {
  readonly code = 'MQ_POOL_PUBLISH_FAILED';

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly messageId: string,
    /** AMQP reply code of the channel close (404, 403, 406…). */
    readonly replyCode: number | undefined,
    cause: Error,
  ) {
    super(
      `Publish of message ${messageId} to exchange "${exchange}" failed: the broker closed the channel (${cause.message}). ` +
        'The message was not stored. Declare the exchange (or fix permissions) before publishing to it.',
      { cause },
    );
  }
}

import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/** The broker answered a publish with `basic.nack`: it did not take responsibility for the message. */
export class PublishRejectedError extends MqPoolError {
  readonly code = 'MQ_POOL_PUBLISH_REJECTED';

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly messageId: string,
  ) {
    super(
      `Broker rejected (nack) message ${messageId} published to exchange "${exchange}" with routing key "${routingKey}". ` +
        'Typical causes: a queue at x-max-length with x-overflow=reject-publish, or a broker-internal error. ' +
        'The message was not stored; retry later or route it elsewhere.',
    );
  }
}

import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/** A managed consumer did not join its group within `joinTimeoutMs`; it was stopped. */
export class ConsumerJoinTimeoutError extends MqPoolError {
  readonly code = 'MQ_KAFKA_CONSUMER_JOIN_TIMEOUT';

  constructor(
    readonly groupId: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(
      `Kafka consumer of group "${groupId}" did not join within ${timeoutMs}ms and was stopped. ` +
        'Check the broker, the topics, or raise "kafka.consumer.joinTimeoutMs".',
      options,
    );
  }
}

import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/** No Kafka broker answered within a deadline (start, health ping). `cause` holds the last client error, if any. */
export class BrokerUnreachableError extends MqPoolError {
  readonly code = 'MQ_KAFKA_BROKER_UNREACHABLE';

  constructor(
    readonly operation: 'start' | 'ping',
    readonly timeoutMs: number,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Kafka ${operation} failed within ${timeoutMs}ms: ${detail}. Check "kafka.brokers", network and credentials.`,
      options,
    );
  }
}

import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/** No broker connection could serve the request within its deadline. `cause` is the last connect failure. */
export class ConnectionUnavailableError extends MqPoolError {
  readonly code = 'MQ_POOL_CONNECTION_UNAVAILABLE';

  constructor(detail: string, cause?: unknown) {
    super(
      `No RabbitMQ connection available: ${detail}. Check that the broker is reachable (rabbitmq.url) and not blocked by an alarm.`,
      cause === undefined ? undefined : { cause },
    );
  }
}

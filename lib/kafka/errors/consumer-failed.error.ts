import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/**
 * A managed consumer crashed more than `restart.maxRestarts` times within `restart.windowMs`; it is
 * no longer restarted and readiness is down. `cause` holds the last crash.
 */
export class ConsumerFailedError extends MqPoolError {
  readonly code = 'MQ_KAFKA_CONSUMER_FAILED';

  constructor(
    readonly groupId: string,
    readonly restarts: number,
    readonly windowMs: number,
    options?: { cause?: unknown },
  ) {
    super(
      `Kafka consumer of group "${groupId}" crashed ${restarts + 1} times within ${windowMs}ms and was given up. ` +
        'Fix the cause (see `cause`: a poison message or an unreachable broker) and start it again.',
      options,
    );
  }
}

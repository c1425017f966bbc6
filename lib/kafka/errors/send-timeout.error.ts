import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/**
 * A send was not acknowledged within its deadline. Its outcome is UNKNOWN: the client may still
 * deliver it, so retry only what tolerates a duplicate.
 */
export class SendTimeoutError extends MqPoolError {
  readonly code = 'MQ_KAFKA_SEND_TIMEOUT';

  constructor(
    readonly topic: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(
      `Kafka send to topic "${topic}" not acknowledged within ${timeoutMs}ms; outcome unknown (the record may still be written). ` +
        'Check broker reachability, or raise "kafka.sendTimeoutMs".',
      options,
    );
  }
}

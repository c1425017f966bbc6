import { MqPoolError } from '../../core/errors/mq-pool.error.js';
import type { KafkaErrorKind } from '../kafka-driver.js';

/** The client gave up on a send (broker unreachable, record rejected, not authorized…). `cause` holds the client error. */
export class SendFailedError extends MqPoolError {
  readonly code = 'MQ_KAFKA_SEND_FAILED';

  constructor(
    readonly topic: string,
    /** Client-neutral class of the failure. */
    readonly reason: KafkaErrorKind,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`Kafka send to topic "${topic}" failed (${reason}): ${detail}`, options);
  }
}

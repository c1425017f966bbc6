import { MqPoolError } from '../../core/errors/mq-pool.error.js';
import type { KafkaRecordPosition } from '../kafka-types.js';

/**
 * The consumer stopped while a record waited for its next attempt. The wait ends at once and the
 * record's offset is not committed: the group's next member for the partition receives it again
 * (with `attempt` counting from 1).
 */
export class RetryInterruptedError extends MqPoolError {
  readonly code = 'MQ_KAFKA_RETRY_INTERRUPTED';

  constructor(
    readonly source: KafkaRecordPosition,
    readonly nextAttempt: number,
  ) {
    super(
      `The consumer stopped while record ${source.topic}[${source.partition}]@${source.offset} waited for attempt ${nextAttempt}; ` +
        'its offset is not committed, so it is delivered again.',
    );
  }
}

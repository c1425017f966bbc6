import { MqPoolError } from '../../core/errors/mq-pool.error.js';
import type { KafkaRecordPosition } from '../kafka-types.js';

/**
 * A record that failed its handler could not be written to its dead-letter topic. Nothing is
 * lost: its offset is not committed, so the consumer retries it (then its restart policy applies).
 * `topicMissing`: the broker does not know the topic — create it: the pool asks for no topic to be
 * created unless `kafka.allowAutoTopicCreation` is true.
 */
export class DeadLetterFailedError extends MqPoolError {
  readonly code = 'MQ_KAFKA_DEAD_LETTER_FAILED';

  constructor(
    readonly deadLetterTopic: string,
    readonly source: KafkaRecordPosition,
    readonly topicMissing: boolean,
    detail: string,
    options?: { cause?: unknown },
  ) {
    const record = `${source.topic}[${source.partition}]@${source.offset}`;
    super(
      topicMissing
        ? `Dead-letter topic "${deadLetterTopic}" does not exist: the failed record ${record} stays uncommitted and is retried. ` +
            `Fix: create the topic "${deadLetterTopic}" (the pool creates no topic unless kafka.allowAutoTopicCreation is true), or set deadLetterTopic to an existing topic or to false.`
        : `Sending the failed record ${record} to dead-letter topic "${deadLetterTopic}" failed (${detail}); it stays uncommitted and is retried.`,
      options,
    );
  }
}

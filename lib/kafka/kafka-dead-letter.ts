import { errorMessage } from '../core/with-deadline.js';
import { errorCode, failureText } from '../core/failure-headers.js';
import { DeadLetterFailedError } from './errors/dead-letter-failed.error.js';
import type {
  KafkaHeaders,
  KafkaProducerRecord,
  KafkaReceivedMessage,
  KafkaRecordPosition,
} from './kafka-types.js';

/** Headers a dead-lettered record carries beside its own (which it keeps). */
export const DEAD_LETTER_HEADERS = Object.freeze({
  /** The last error's message (`Name: message`), at most ~1 KB, never a stack. */
  error: 'x-mq-error',
  /** The error's stable `code` (e.g. `MQ_PAYLOAD_UNDECODABLE`), else its class name. */
  errorCode: 'x-mq-error-code',
  /** Handler attempts made (1 when dead-lettered at once). */
  attempts: 'x-mq-attempts',
  sourceTopic: 'x-mq-source-topic',
  sourcePartition: 'x-mq-source-partition',
  sourceOffset: 'x-mq-source-offset',
  /** ISO-8601 time of the decision to dead-letter. */
  failedAt: 'x-mq-failed-at',
});

/** Why a record is dead-lettered. */
export interface DeadLetterReason {
  error: unknown;
  attempts: number;
  failedAt: Date;
}

/**
 * The dead-letter copy of `message` (consumed from `source`): same key and value, its headers plus
 * the `x-mq-*` ones, which replace any of the same name (a record dead-lettered twice names its
 * latest failure). `scrub` masks known secrets in the error message.
 */
export function deadLetterRecord(
  deadLetterTopic: string,
  source: KafkaRecordPosition,
  message: Pick<KafkaReceivedMessage, 'key' | 'value' | 'headers'>,
  reason: DeadLetterReason,
  scrub: (text: string) => string = (text) => text,
): KafkaProducerRecord {
  const h = DEAD_LETTER_HEADERS;
  const headers: KafkaHeaders = {
    ...message.headers,
    [h.error]: failureText(reason.error, scrub),
    [h.errorCode]: errorCode(reason.error),
    [h.attempts]: String(reason.attempts),
    [h.sourceTopic]: source.topic,
    [h.sourcePartition]: String(source.partition),
    [h.sourceOffset]: source.offset,
    [h.failedAt]: reason.failedAt.toISOString(),
  };
  return {
    topic: deadLetterTopic,
    messages: [{ key: message.key, value: message.value, headers }],
  };
}

// Kafka protocol error code, the same in every client.
const UNKNOWN_TOPIC_OR_PARTITION = 3;

/** True when the broker answered that the topic does not exist (anywhere in the cause chain). */
export function isUnknownTopicError(error: unknown): boolean {
  for (let e = error, depth = 0; e && typeof e === 'object' && depth < 8; depth++) {
    if ((e as { code?: unknown }).code === UNKNOWN_TOPIC_OR_PARTITION) return true;
    e = (e as { cause?: unknown }).cause;
  }
  return false;
}

/** A failed dead-letter send as the typed error the logs and the consumer's retry see. */
export function deadLetterFailure(
  deadLetterTopic: string,
  source: KafkaRecordPosition,
  error: unknown,
  scrub: (text: string) => string,
): DeadLetterFailedError {
  return new DeadLetterFailedError(
    deadLetterTopic,
    source,
    isUnknownTopicError(error),
    scrub(errorMessage(error)),
    { cause: error },
  );
}

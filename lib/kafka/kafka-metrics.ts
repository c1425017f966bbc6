/**
 * Broker-level metrics of the Kafka adapter. The Nest metrics layer implements this with
 * Prometheus (`mq_publish_seconds`, `mq_publish_errors_total{reason}`, `mq_consume_total{outcome}`,
 * `mq_pool_reconnects_total`…); without it the NOOP recorder keeps the hot path free of `if`s.
 */

/** Why a send failed: the label of `mq_publish_errors_total{reason}`. */
export type KafkaSendFailureReason =
  'timeout' | 'connection' | 'fenced' | 'rejected' | 'auth' | 'closed' | 'unknown';

export type KafkaConsumeOutcome = 'success' | 'error';

export type KafkaTransactionOutcome = 'committed' | 'aborted' | 'failed';

/**
 * What became of a record of a `subscribe()` handler: the label of
 * `mq_handler_messages_total{outcome}`. Per handler call: `handled` (resolved) or `failed` (threw);
 * per failed record: `retried` (another attempt follows), then `dead_lettered` (acknowledged by the
 * dead-letter topic) or `discarded` (`deadLetterTopic: false`). A record that cannot be decoded is
 * `dead_lettered` without a handler call.
 */
export type KafkaHandlerOutcome = 'handled' | 'failed' | 'retried' | 'dead_lettered' | 'discarded';

/** What reconnected: the shared producer (recreated), a consumer (restarted) or the admin client. */
export type KafkaReconnectTarget = 'producer' | 'consumer' | 'admin';

export interface KafkaMetricsRecorder {
  /** A `send()` (or a send inside a transaction) was acknowledged after `seconds`. */
  sendSucceeded(seconds: number): void;
  sendFailed(reason: KafkaSendFailureReason, seconds: number): void;
  /** One message (eachMessage) or batch (eachBatch) handled. */
  consumed(groupId: string, outcome: KafkaConsumeOutcome): void;
  consumerCrashed(groupId: string): void;
  consumerRebalanced(groupId: string): void;
  transactionEnded(outcome: KafkaTransactionOutcome, seconds: number): void;
  reconnected(target: KafkaReconnectTarget): void;
  /** One call of a `subscribe()` handler on a record of `topic` took `seconds` (resolved or threw). */
  handlerRan(topic: string, seconds: number): void;
  handlerOutcome(topic: string, outcome: KafkaHandlerOutcome): void;
}

const noop = (): void => undefined;

export const NOOP_KAFKA_METRICS: KafkaMetricsRecorder = Object.freeze({
  sendSucceeded: noop,
  sendFailed: noop,
  consumed: noop,
  consumerCrashed: noop,
  consumerRebalanced: noop,
  transactionEnded: noop,
  reconnected: noop,
  handlerRan: noop,
  handlerOutcome: noop,
});

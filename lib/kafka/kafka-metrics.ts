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
});

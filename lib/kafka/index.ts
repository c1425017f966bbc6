export { KafkaPool } from './kafka-pool.js';
export type {
  KafkaDrainReport,
  KafkaHealth,
  KafkaPoolDeps,
  KafkaPoolState,
  KafkaPoolStats,
} from './kafka-pool.types.js';
export {
  DEFAULT_KAFKA_OPTIONS,
  type KafkaConsumerDefaults,
  type KafkaLogLevel,
  type KafkaPoolOptions,
  type KafkaRestartPolicy,
  type KafkaRetryOptions,
  type KafkaSaslOptions,
  type KafkaSslOptions,
  type KafkaTransactionOptions,
  type ResolvedKafkaPoolOptions,
} from './kafka-options.js';
export { validateKafkaOptions } from './kafka-options.validator.js';
export {
  validateKafkaSubscribeOptions,
  type ResolvedSubscribeOptions,
} from './kafka-subscribe-options.validator.js';
export { DEAD_LETTER_HEADERS } from './kafka-dead-letter.js';
export type {
  KafkaConsumeOptions,
  KafkaConsumerHandle,
  KafkaConsumerState,
  KafkaConsumerStats,
  KafkaConsumerStopReport,
} from './kafka-consumer.js';
export type { KafkaTransaction } from './kafka-transaction.js';
export type { KafkaPoolEventName, KafkaPoolEvents } from './kafka-events.js';
export {
  NOOP_KAFKA_METRICS,
  type KafkaConsumeOutcome,
  type KafkaHandlerOutcome,
  type KafkaMetricsRecorder,
  type KafkaReconnectTarget,
  type KafkaSendFailureReason,
  type KafkaTransactionOutcome,
} from './kafka-metrics.js';
export type {
  DriverAdmin,
  DriverConsumer,
  DriverConsumerConfig,
  DriverConsumerListeners,
  DriverConsumerRunConfig,
  DriverProducer,
  DriverProducerConfig,
  DriverTransaction,
  KafkaClientConfig,
  KafkaDriver,
  KafkaDriverFactory,
  KafkaErrorKind,
  KafkaRetryPolicy,
} from './kafka-driver.js';
export { createKafkajsDriver, KAFKAJS_DRIVER_NAME } from './kafkajs-driver.js';
export type { SharedProducerState, SharedProducerStats } from './shared-producer.js';
export type { PingResult } from './admin-probe.js';
export type * from './kafka-types.js';
export type * from './kafka-subscribe-options.js';
export * from './errors/index.js';

import type { MqLogger } from '../core/logger.js';
import type { KafkaLogLevel, KafkaSaslOptions, KafkaSslOptions } from './kafka-options.js';
import type {
  KafkaClusterDescription,
  KafkaEachBatchHandler,
  KafkaEachMessageHandler,
  KafkaProducerBatch,
  KafkaProducerRecord,
  KafkaRecordMetadata,
  KafkaTopicOffsets,
} from './kafka-types.js';

/**
 * The seam between `KafkaPool` and a Kafka client library. Everything client-specific (kafkajs
 * today; @confluentinc/kafka-javascript's KafkaJS-compatible API later) lives behind it, so the pool,
 * its policies and its tests do not change when the client does.
 */

export interface KafkaRetryPolicy {
  retries: number;
  initialRetryTimeMs: number;
  maxRetryTimeMs: number;
}

export interface KafkaClientConfig {
  brokers: string[];
  clientId: string;
  ssl: KafkaSslOptions | undefined;
  sasl: KafkaSaslOptions | undefined;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  authenticationTimeoutMs: number;
  /** Cluster-level retry (metadata, coordinator lookups). */
  retry: KafkaRetryPolicy;
  logLevel: KafkaLogLevel;
  logger: MqLogger;
  /** Strings to scrub from anything the client logs (SASL secrets). */
  secrets: readonly string[];
}

export interface DriverProducerConfig {
  idempotent: boolean;
  transactionalId?: string;
  transactionTimeoutMs?: number;
  retry: KafkaRetryPolicy;
  allowAutoTopicCreation: boolean;
}

export interface DriverSender {
  send(record: KafkaProducerRecord): Promise<KafkaRecordMetadata[]>;
  sendBatch(batch: KafkaProducerBatch): Promise<KafkaRecordMetadata[]>;
}

export interface DriverTransaction extends DriverSender {
  sendOffsets(offsets: { consumerGroupId: string; topics: KafkaTopicOffsets[] }): Promise<void>;
  commit(): Promise<void>;
  abort(): Promise<void>;
  isActive(): boolean;
}

export interface DriverProducer extends DriverSender {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** Begins a transaction (initializing the producer id, which fences older epochs of the id, on first use). */
  beginTransaction(): Promise<DriverTransaction>;
}

export interface DriverConsumerConfig {
  groupId: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  /** false → isolation read_committed (records of aborted transactions never delivered). */
  readUncommitted: boolean;
  retry: KafkaRetryPolicy;
  allowAutoTopicCreation: boolean;
  maxBytesPerPartition?: number;
  maxWaitTimeMs?: number;
}

export interface DriverConsumerRunConfig {
  autoCommit: boolean;
  autoCommitIntervalMs?: number;
  autoCommitThreshold?: number;
  partitionsConsumedConcurrently: number;
  eachBatchAutoResolve?: boolean;
  eachMessage?: KafkaEachMessageHandler;
  eachBatch?: KafkaEachBatchHandler;
}

export interface DriverConsumerListeners {
  /** The consumer crashed; the driver has already disconnected it and will NOT restart it (the pool's policy does). */
  onCrash(error: Error): void;
  /** The group started rebalancing under this member. */
  onRebalancing(): void;
  /** This member joined (or re-joined) the group. */
  onGroupJoin(info: {
    memberId: string;
    isLeader: boolean;
    assignment: Record<string, number[]>;
  }): void;
}

export interface DriverConsumer {
  connect(): Promise<void>;
  subscribe(subscription: { topics: (string | RegExp)[]; fromBeginning: boolean }): Promise<void>;
  run(config: DriverConsumerRunConfig): Promise<void>;
  /** Graceful: stop fetching, wait for in-flight handlers, commit resolved offsets, leave the group, disconnect. */
  disconnect(): Promise<void>;
}

export interface DriverAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** One real metadata round trip. */
  describeCluster(): Promise<KafkaClusterDescription>;
}

/**
 * Client-neutral class of a failure, which decides what the pool does with the resource:
 * `fenced` / `producer-state` → the producer is replaced; `connection` / `timeout` → retried later.
 */
export type KafkaErrorKind =
  'fenced' | 'producer-state' | 'connection' | 'timeout' | 'auth' | 'rejected' | 'unknown';

export interface KafkaDriver {
  /** e.g. "kafkajs 2.2.4", for logs and health details. */
  readonly name: string;
  producer(config: DriverProducerConfig): DriverProducer;
  consumer(config: DriverConsumerConfig, listeners: DriverConsumerListeners): DriverConsumer;
  admin(): DriverAdmin;
  classifyError(error: unknown): KafkaErrorKind;
}

export type KafkaDriverFactory = (config: KafkaClientConfig) => KafkaDriver;

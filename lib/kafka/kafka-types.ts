/**
 * Record and payload shapes of the Kafka adapter. They are the library's own, kept structurally
 * compatible with kafkajs (and so with @confluentinc/kafka-javascript's KafkaJS API), so users can
 * pass what they already build and no kafkajs type leaks into the public surface.
 */

export interface KafkaHeaders {
  [key: string]: Buffer | string | (Buffer | string)[] | undefined;
}

/** A record to write. */
export interface KafkaMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  partition?: number;
  headers?: KafkaHeaders;
  /** Milliseconds since epoch, as a string (Kafka's convention). */
  timestamp?: string;
}

export type KafkaCompression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';

export interface KafkaProducerRecord {
  topic: string;
  messages: KafkaMessage[];
  /** -1 (all in-sync replicas, the default and the only value an idempotent producer accepts), 1 or 0. */
  acks?: number;
  /** Broker-side wait for the acks, ms. */
  timeout?: number;
  compression?: KafkaCompression;
}

export interface KafkaTopicMessages {
  topic: string;
  messages: KafkaMessage[];
}

export interface KafkaProducerBatch {
  topicMessages: KafkaTopicMessages[];
  acks?: number;
  timeout?: number;
  compression?: KafkaCompression;
}

export interface KafkaRecordMetadata {
  topicName: string;
  partition: number;
  errorCode: number;
  offset?: string;
  timestamp?: string;
  baseOffset?: string;
  logAppendTime?: string;
  logStartOffset?: string;
}

export interface KafkaPartitionOffset {
  partition: number;
  offset: string;
}

export interface KafkaTopicOffsets {
  topic: string;
  partitions: KafkaPartitionOffset[];
}

/** A record as delivered to a consumer. */
export interface KafkaReceivedMessage {
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  attributes: number;
  offset: string;
  headers?: KafkaHeaders;
  size?: number;
}

/** Where a record sits: what errors and dead-letter headers name. */
export interface KafkaRecordPosition {
  topic: string;
  partition: number;
  offset: string;
}

export interface KafkaEachMessagePayload {
  topic: string;
  partition: number;
  message: KafkaReceivedMessage;
  heartbeat(): Promise<void>;
  /** Pauses this topic-partition; returns a function that resumes it. */
  pause(): () => void;
}

export interface KafkaBatch {
  topic: string;
  partition: number;
  highWatermark: string;
  messages: KafkaReceivedMessage[];
  isEmpty(): boolean;
  firstOffset(): string | null;
  lastOffset(): string;
  offsetLag(): string;
  offsetLagLow(): string;
}

export interface KafkaEachBatchPayload {
  batch: KafkaBatch;
  resolveOffset(offset: string): void;
  heartbeat(): Promise<void>;
  pause(): () => void;
  commitOffsetsIfNecessary(offsets?: { topics: KafkaTopicOffsets[] }): Promise<void>;
  uncommittedOffsets(): { topics: KafkaTopicOffsets[] };
  isRunning(): boolean;
  isStale(): boolean;
}

export type KafkaEachMessageHandler = (payload: KafkaEachMessagePayload) => Promise<void>;
export type KafkaEachBatchHandler = (payload: KafkaEachBatchPayload) => Promise<void>;

export interface KafkaClusterDescription {
  brokers: { nodeId: number; host: string; port: number }[];
  controller: number | null;
  clusterId: string;
}

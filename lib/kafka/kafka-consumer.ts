import type { KafkaRestartPolicy, KafkaRetryOptions } from './kafka-options.js';
import type { KafkaEachBatchHandler, KafkaEachMessageHandler } from './kafka-types.js';

/** Options of `KafkaPool.consume()`. Unset tuning keys fall back to `kafka.consumer`. */
export interface KafkaConsumeOptions {
  groupId: string;
  /** Topic names or patterns (patterns are matched once, at subscribe). */
  topics: (string | RegExp)[];
  /** Where a group with no committed offset starts. Default false (latest). */
  fromBeginning?: boolean;
  /** Exactly one of `eachMessage` / `eachBatch`. A throw = not processed (retried, then crash → restart policy). */
  eachMessage?: KafkaEachMessageHandler;
  eachBatch?: KafkaEachBatchHandler;
  /** Default true: offsets of handled messages committed periodically, after each batch, and on stop. */
  autoCommit?: boolean;
  autoCommitIntervalMs?: number;
  autoCommitThreshold?: number;
  eachBatchAutoResolve?: boolean;
  /** Partitions handled in parallel. Default 1. */
  partitionsConsumedConcurrently?: number;
  /** Default false: read_committed, records of aborted transactions are never delivered. */
  readUncommitted?: boolean;
  maxBytesPerPartition?: number;
  maxWaitTimeMs?: number;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  joinTimeoutMs?: number;
  stopTimeoutMs?: number;
  retry?: KafkaRetryOptions;
  restart?: KafkaRestartPolicy;
}

/**
 * starting ─joined─▶ running ─crash─▶ restarting ─backoff─▶ starting
 *     │                  │                 │ crash loop ──▶ failed
 *     └──────────────────┴─────stop()──────┴──▶ stopping ──▶ stopped
 */
export type KafkaConsumerState =
  'starting' | 'running' | 'restarting' | 'stopping' | 'stopped' | 'failed';

export interface KafkaConsumerStats {
  groupId: string;
  state: KafkaConsumerState;
  /** Handler calls running now. */
  inFlight: number;
  /** Handler calls that resolved / threw. */
  processed: number;
  failed: number;
  crashes: number;
  restarts: number;
  rebalances: number;
  joins: number;
  lastError: string | null;
}

export interface KafkaConsumerStopReport {
  groupId: string;
  durationMs: number;
  /** True when handlers, the commit or the group leave had not finished by the deadline. */
  timedOut: boolean;
  inFlightAtDeadline: number;
}

/** What `consume()` returns. */
export interface KafkaConsumerHandle {
  readonly groupId: string;
  readonly state: KafkaConsumerState;
  stats(): KafkaConsumerStats;
  /**
   * Graceful stop: no new fetches, in-flight handlers finish, offsets committed, group left, all
   * within `deadlineMs` (default `kafka.consumer.stopTimeoutMs`). Idempotent.
   */
  stop(deadlineMs?: number): Promise<KafkaConsumerStopReport>;
}

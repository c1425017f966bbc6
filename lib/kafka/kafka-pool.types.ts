import type { Clock } from '../core/clock.js';
import type { MqLogger } from '../core/logger.js';
import type { PoolMetricsRecorder } from '../core/metrics-recorder.js';
import type { DrainReport, PoolStats } from '../core/pool-stats.js';
import type { PingResult } from './admin-probe.js';
import type { KafkaConsumerStats, KafkaConsumerStopReport } from './kafka-consumer.js';
import type { KafkaDriverFactory } from './kafka-driver.js';
import type { KafkaMetricsRecorder } from './kafka-metrics.js';
import type { SharedProducerStats } from './shared-producer.js';

export interface KafkaPoolDeps {
  /** Pool name for logs, errors and metrics labels. Default "default". */
  name?: string;
  logger?: MqLogger;
  metrics?: KafkaMetricsRecorder;
  /** Acquire metrics of the transactional producer pool (core `Pool`). */
  poolMetrics?: PoolMetricsRecorder;
  clock?: Clock;
  /** The Kafka client behind the pool. Default kafkajs (`createKafkajsDriver`). */
  driver?: KafkaDriverFactory;
  /** Uniform in [0, 1), for backoff jitter. Default Math.random. */
  random?: () => number;
}

/**
 * `stats()`: the top-level `PoolStats` fields describe the transactional producer pool (all zero
 * without `transactions`), with `draining`/`closed` describing the whole Kafka pool; the shared
 * producer and the managed consumers have their own sections.
 */
export interface KafkaPoolStats extends PoolStats {
  producer: SharedProducerStats;
  consumers: KafkaConsumerStats[];
}

export interface KafkaHealth {
  healthy: boolean;
  /** Why not healthy. Never holds hosts, users or credentials. */
  reason?: string;
  /**
   * Down only because of a past failed send that a successful `ping()` clears. The health
   * indicators ping in that case: a pool taken out of rotation gets no sends that could clear it.
   */
  pingClears?: boolean;
  details: {
    pool: string;
    state: KafkaPoolState;
    driver: string;
    producer: { state: string; inFlight: number; lastFailure: string | null };
    consumers: {
      groupId: string;
      state: string;
      inFlight: number;
      crashes: number;
      restarts: number;
      rebalances: number;
    }[];
    transactions: { max: number; size: number; leased: number; waiting: number } | null;
    lastPing: Omit<PingResult, 'error'> | null;
  };
}

export type KafkaPoolState = 'created' | 'started' | 'draining' | 'drained' | 'closed';

export interface KafkaDrainReport {
  durationMs: number;
  /** True when anything (handlers, sends, transactions, disconnects) was still outstanding at the deadline. */
  timedOut: boolean;
  consumers: KafkaConsumerStopReport[];
  sendsInFlightAtDeadline: number;
  /** Core pool report of the transactional producers; null without `transactions`. */
  transactions: DrainReport | null;
}

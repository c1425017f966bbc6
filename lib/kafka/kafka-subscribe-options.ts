import type { HandlerRetryPolicy } from '../core/handler-retry-policy.js';
import type { KafkaConsumerHandle } from './kafka-consumer.js';
import type { KafkaHeaders, KafkaReceivedMessage } from './kafka-types.js';

/**
 * `KafkaPool.subscribe()` — what `@KafkaSubscribe` passes down, less the pool name (DESIGN §6).
 * Consumer tuning (session, heartbeat, restart policy…) comes from the pool's `kafka.consumer`.
 */
export interface KafkaSubscribeOptions {
  /** Topic names (not patterns: each needs a dead-letter topic, and metrics label by topic). */
  topics: string | string[];
  groupId: string;
  /** Where a new group starts; default false (latest). */
  fromBeginning?: boolean;
  /**
   * Default: no retry (the first failure dead-letters). Retries run in process, in order: a
   * record waiting for its retry holds its partition (Kafka keeps order per partition).
   */
  retry?: HandlerRetryPolicy;
  /**
   * Default `${topic}.dlq`, which must exist unless `kafka.allowAutoTopicCreation` is true;
   * `false` skips the record after its last attempt (counted as `discarded`).
   */
  deadLetterTopic?: string | false;
  /**
   * Partitions handled in parallel by this member. Default 1: then a record waiting for a retry
   * holds every partition of the member, not only its own.
   */
  partitionsConsumedConcurrently?: number;
}

/** What a declarative Kafka handler receives beside its payload. */
export interface KafkaMessageContext {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: Buffer | null;
  readonly headers: KafkaHeaders;
  /** 1 on the first delivery, 2 on the first retry, … */
  readonly attempt: number;
  /** The record as the driver delivered it. */
  readonly raw: KafkaReceivedMessage;
}

/** Resolve → the offset moves on; throw → the retry policy, then the dead-letter topic. */
export type KafkaHandler<T = unknown> = (payload: T, message: KafkaMessageContext) => Promise<void>;

/** The declarative face of `KafkaPool` (DESIGN §6); see RabbitMessaging. */
export interface KafkaMessaging {
  /** Runs `handler` as a managed consumer of `options.topics` in `options.groupId`. */
  subscribe<T = unknown>(
    options: KafkaSubscribeOptions,
    handler: KafkaHandler<T>,
  ): Promise<KafkaConsumerHandle>;
}

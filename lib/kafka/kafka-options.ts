import type { ConnectionOptions as TlsConnectionOptions } from 'node:tls';
import type { MessageSerializer } from '../core/message-serializer.js';

/**
 * Options of `KafkaPool` (the `kafka` key of the module options). Every default lives in
 * `DEFAULT_KAFKA_OPTIONS`; `validateKafkaOptions()` checks them once, rejecting unknown keys.
 */

export type KafkaSaslOptions =
  | { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string }
  | {
      mechanism: 'aws';
      authorizationIdentity: string;
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken?: string;
    }
  | { mechanism: 'oauthbearer'; oauthBearerProvider: () => Promise<{ value: string }> };

/** `true` for TLS with the system CAs, or Node's TLS options (ca, cert, key, servername…), passed through. */
export type KafkaSslOptions = boolean | TlsConnectionOptions;

export type KafkaLogLevel = 'nothing' | 'error' | 'warn' | 'info' | 'debug';

/** Client-side retry of one request (kafkajs `retry`): exponential, randomized, capped. */
export interface KafkaRetryOptions {
  retries?: number;
  initialRetryTimeMs?: number;
  maxRetryTimeMs?: number;
}

/** What a managed consumer does when it crashes. */
export interface KafkaRestartPolicy {
  /** First restart delay; doubles per restart (full jitter), capped by `maxDelayMs`. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /**
   * More than this many restarts within `windowMs` → the consumer is declared failed: readiness down,
   * `consumerFailed` emitted, no more restarts. Crashes because no broker answered do not count
   * (the consumer keeps restarting, at most every `maxDelayMs`, until the broker is back).
   */
  maxRestarts?: number;
  windowMs?: number;
}

export interface KafkaConsumerDefaults {
  /** Deadline of `consume()`: the first group join must happen within it. */
  joinTimeoutMs?: number;
  /** Default deadline of a graceful stop (in-flight handlers finish, offsets committed, group left). */
  stopTimeoutMs?: number;
  sessionTimeoutMs?: number;
  rebalanceTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** Retries of a failing fetch or handler before the consumer crashes (then `restart` applies). */
  retry?: KafkaRetryOptions;
  restart?: KafkaRestartPolicy;
}

export interface KafkaTransactionOptions {
  /**
   * Required. Transactional ids are `<prefix>-<slot>`: stable across restarts so a restarted
   * instance fences its predecessor, and UNIQUE per instance (e.g. `orders-svc-${podOrdinal}`):
   * two live instances sharing a prefix fence each other.
   */
  transactionalIdPrefix: string;
  /** Most transactional producers open at once (one open transaction each). */
  maxProducers?: number;
  /** Kept connected and initialized. */
  minProducers?: number;
  acquireTimeoutMs?: number;
  maxWaiting?: number;
  /** Broker aborts a transaction open longer than this (kafkajs `transactionTimeout`). */
  transactionTimeoutMs?: number;
  /** Idle producers above `minProducers` are closed after this. */
  idleTimeoutMs?: number;
}

export interface KafkaPoolOptions {
  /** `host:port` seeds, at least one. */
  brokers: string[];
  clientId?: string;
  ssl?: KafkaSslOptions;
  sasl?: KafkaSaslOptions;
  /** TCP connect timeout of one broker connection (kafkajs `connectionTimeout`). */
  connectTimeoutMs?: number;
  /** Deadline of `start()`: the shared producer must be connected within it. */
  startTimeoutMs?: number;
  requestTimeoutMs?: number;
  authenticationTimeoutMs?: number;
  /** Deadline of every `send()` (and of commit/abort/sends inside a transaction). */
  sendTimeoutMs?: number;
  /** Shared producer: idempotent (acks -1 enforced by Kafka). */
  idempotent?: boolean;
  /** Producer request retries; bounded so work behind a timed-out send does not pile up during an outage. */
  retry?: KafkaRetryOptions;
  /** Backoff of the shared producer's connect loop (start and after a fatal producer error). */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  allowAutoTopicCreation?: boolean;
  /** Level of kafkajs's own logs routed into the library logger. */
  logLevel?: KafkaLogLevel;
  transactions?: KafkaTransactionOptions;
  consumer?: KafkaConsumerDefaults;
  /** Payloads of declarative handlers: JSON_SERIALIZER by default. */
  serializer?: MessageSerializer;
}

export interface ResolvedRetryOptions {
  retries: number;
  initialRetryTimeMs: number;
  maxRetryTimeMs: number;
}

export type ResolvedRestartPolicy = Required<KafkaRestartPolicy>;

/** What the pool runs with: every default applied. */
export interface ResolvedKafkaPoolOptions {
  brokers: string[];
  clientId: string;
  ssl: KafkaSslOptions | undefined;
  sasl: KafkaSaslOptions | undefined;
  connectTimeoutMs: number;
  startTimeoutMs: number;
  requestTimeoutMs: number;
  authenticationTimeoutMs: number;
  sendTimeoutMs: number;
  idempotent: boolean;
  retry: ResolvedRetryOptions;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  allowAutoTopicCreation: boolean;
  logLevel: KafkaLogLevel;
  transactions: Required<KafkaTransactionOptions> | undefined;
  consumer: {
    joinTimeoutMs: number;
    stopTimeoutMs: number;
    sessionTimeoutMs: number;
    rebalanceTimeoutMs: number;
    heartbeatIntervalMs: number;
    retry: ResolvedRetryOptions;
    restart: ResolvedRestartPolicy;
  };
  serializer: MessageSerializer;
}

/** The one place defaults live (README documents these values). */
export const DEFAULT_KAFKA_OPTIONS = Object.freeze({
  clientId: 'nestjs-mq-pool',
  connectTimeoutMs: 3_000,
  startTimeoutMs: 15_000,
  requestTimeoutMs: 30_000,
  authenticationTimeoutMs: 10_000,
  sendTimeoutMs: 10_000,
  idempotent: true,
  retry: Object.freeze({ retries: 5, initialRetryTimeMs: 100, maxRetryTimeMs: 2_000 }),
  reconnect: Object.freeze({ initialDelayMs: 200, maxDelayMs: 10_000 }),
  allowAutoTopicCreation: false,
  logLevel: 'warn' as KafkaLogLevel,
  transactions: Object.freeze({
    maxProducers: 4,
    minProducers: 0,
    acquireTimeoutMs: 5_000,
    maxWaiting: 1_000,
    transactionTimeoutMs: 60_000,
    idleTimeoutMs: 300_000,
  }),
  consumer: Object.freeze({
    joinTimeoutMs: 30_000,
    stopTimeoutMs: 10_000,
    sessionTimeoutMs: 30_000,
    rebalanceTimeoutMs: 60_000,
    heartbeatIntervalMs: 3_000,
    retry: Object.freeze({ retries: 5, initialRetryTimeMs: 300, maxRetryTimeMs: 10_000 }),
    restart: Object.freeze({
      initialDelayMs: 1_000,
      maxDelayMs: 30_000,
      maxRestarts: 5,
      windowMs: 300_000,
    }),
  }),
});

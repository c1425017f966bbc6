import kafkajs from 'kafkajs';
import type {
  Admin,
  Consumer,
  KafkaConfig,
  Message,
  Producer,
  ProducerBatch,
  ProducerRecord,
  RetryOptions,
  SASLOptions,
  Transaction,
} from 'kafkajs';
import type {
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
  KafkaErrorKind,
  KafkaRetryPolicy,
} from './kafka-driver.js';
import type { KafkaCompression, KafkaProducerBatch, KafkaProducerRecord } from './kafka-types.js';
import { kafkajsLogCreator, toKafkajsLogLevel } from './kafkajs-log-bridge.js';

const { Kafka, Partitioners, CompressionTypes } = kafkajs;

/** The only file (with the log bridge) that knows kafkajs. */
export const KAFKAJS_DRIVER_NAME = 'kafkajs 2.2.4';

const COMPRESSION: Record<KafkaCompression, number> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

export function createKafkajsDriver(config: KafkaClientConfig): KafkaDriver {
  const kafka = new Kafka({
    brokers: config.brokers,
    clientId: config.clientId,
    ssl: config.ssl,
    sasl: config.sasl as SASLOptions | undefined,
    connectionTimeout: config.connectTimeoutMs,
    requestTimeout: config.requestTimeoutMs,
    authenticationTimeout: config.authenticationTimeoutMs,
    retry: toRetry(config.retry),
    logLevel: toKafkajsLogLevel(config.logLevel),
    logCreator: kafkajsLogCreator(config.logger, config.secrets),
  } satisfies KafkaConfig);

  return {
    name: KAFKAJS_DRIVER_NAME,
    producer: (c) => wrapProducer(createProducer(kafka, c)),
    consumer: (c, listeners) => wrapConsumer(createConsumer(kafka, c, listeners)),
    admin: () => wrapAdmin(kafka.admin({ retry: { retries: 0 } })),
    classifyError: classifyKafkajsError,
  };
}

function toRetry(policy: KafkaRetryPolicy): RetryOptions {
  return {
    retries: policy.retries,
    initialRetryTime: policy.initialRetryTimeMs,
    maxRetryTime: policy.maxRetryTimeMs,
  };
}

function createProducer(kafka: InstanceType<typeof Kafka>, c: DriverProducerConfig): Producer {
  return kafka.producer({
    // Explicit partitioner: the Java-compatible murmur2 one, and no kafkajs v2 partitioner warning.
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: toRetry(c.retry),
    allowAutoTopicCreation: c.allowAutoTopicCreation,
    // A transactional producer is idempotent on its transactional path; setting `idempotent` too
    // would make connect() fetch a second, unused producer id.
    idempotent: c.transactionalId ? false : c.idempotent,
    transactionalId: c.transactionalId,
    transactionTimeout: c.transactionTimeoutMs,
  });
}

function toRecord(r: KafkaProducerRecord): ProducerRecord {
  if (r.compression === undefined) return r as ProducerRecord;
  return { ...r, messages: r.messages as Message[], compression: COMPRESSION[r.compression] };
}

function toBatch(b: KafkaProducerBatch): ProducerBatch {
  if (b.compression === undefined) return b as ProducerBatch;
  return { ...b, compression: COMPRESSION[b.compression] };
}

function wrapProducer(p: Producer): DriverProducer {
  return {
    connect: () => p.connect(),
    disconnect: () => p.disconnect(),
    send: (record) => p.send(toRecord(record)),
    sendBatch: (batch) => p.sendBatch(toBatch(batch)),
    beginTransaction: async () => wrapTransaction(await p.transaction()),
  };
}

function wrapTransaction(t: Transaction): DriverTransaction {
  return {
    send: (record) => t.send(toRecord(record)),
    sendBatch: (batch) => t.sendBatch(toBatch(batch)),
    sendOffsets: (offsets) => t.sendOffsets(offsets),
    commit: () => t.commit(),
    abort: () => t.abort(),
    isActive: () => t.isActive(),
  };
}

function createConsumer(
  kafka: InstanceType<typeof Kafka>,
  c: DriverConsumerConfig,
  listeners: DriverConsumerListeners,
): Consumer {
  const consumer = kafka.consumer({
    groupId: c.groupId,
    sessionTimeout: c.sessionTimeoutMs,
    rebalanceTimeout: c.rebalanceTimeoutMs,
    heartbeatInterval: c.heartbeatIntervalMs,
    readUncommitted: c.readUncommitted,
    allowAutoTopicCreation: c.allowAutoTopicCreation,
    maxBytesPerPartition: c.maxBytesPerPartition,
    maxWaitTimeInMs: c.maxWaitTimeMs,
    // kafkajs would restart a crashed consumer on its own, forever; the pool's restart policy
    // (backoff, crash-loop detection, readiness) decides instead.
    retry: { ...toRetry(c.retry), restartOnFailure: async () => false },
  });
  consumer.on(consumer.events.CRASH, (event) => listeners.onCrash(event.payload.error));
  consumer.on(consumer.events.REBALANCING, () => listeners.onRebalancing());
  consumer.on(consumer.events.GROUP_JOIN, (event) =>
    listeners.onGroupJoin({
      memberId: event.payload.memberId,
      isLeader: event.payload.isLeader,
      assignment: event.payload.memberAssignment,
    }),
  );
  return consumer;
}

function wrapConsumer(c: Consumer): DriverConsumer {
  return {
    connect: () => c.connect(),
    subscribe: (s) => c.subscribe(s),
    run: (r: DriverConsumerRunConfig) =>
      c.run({
        autoCommit: r.autoCommit,
        autoCommitInterval: r.autoCommitIntervalMs ?? null,
        autoCommitThreshold: r.autoCommitThreshold ?? null,
        partitionsConsumedConcurrently: r.partitionsConsumedConcurrently,
        eachBatchAutoResolve: r.eachBatchAutoResolve ?? true,
        ...(r.eachMessage ? { eachMessage: r.eachMessage } : {}),
        ...(r.eachBatch ? { eachBatch: r.eachBatch } : {}),
      }),
    disconnect: () => c.disconnect(),
  };
}

function wrapAdmin(a: Admin): DriverAdmin {
  return {
    connect: () => a.connect(),
    disconnect: () => a.disconnect(),
    describeCluster: () => a.describeCluster(),
  };
}

// Kafka protocol error codes (stable across clients).
const FENCED_CODES = new Set([47 /* INVALID_PRODUCER_EPOCH */, 90 /* PRODUCER_FENCED */]);
const PRODUCER_STATE_CODES = new Set([
  45 /* OUT_OF_ORDER_SEQUENCE_NUMBER */, 48 /* INVALID_TXN_STATE */,
  49 /* INVALID_PRODUCER_ID_MAPPING */, 59 /* UNKNOWN_PRODUCER_ID */,
]);
const AUTH_CODES = new Set([
  29, 30, 31, 53, 58 /* *_AUTHORIZATION_FAILED, SASL_AUTHENTICATION_FAILED */,
]);
const CONNECTION_NAMES = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSMetadataNotLoaded',
  'KafkaJSTopicMetadataNotLoaded',
]);
const TIMEOUT_NAMES = new Set([
  'KafkaJSRequestTimeoutError',
  'KafkaJSTimeout',
  'KafkaJSLockTimeout',
]);

/** Walks kafkajs's wrappers (`cause`, aggregate `errors`) to the most telling class of failure. */
export function classifyKafkajsError(error: unknown): KafkaErrorKind {
  const seen = new Set<unknown>();
  const kinds = new Set<KafkaErrorKind>();
  const visit = (e: unknown, depth: number): void => {
    if (!e || typeof e !== 'object' || seen.has(e) || depth > 8) return;
    seen.add(e);
    const err = e as {
      name?: unknown;
      code?: unknown;
      type?: unknown;
      cause?: unknown;
      errors?: unknown;
    };
    const code = typeof err.code === 'number' ? err.code : undefined;
    const name = typeof err.name === 'string' ? err.name : '';
    if (code !== undefined && FENCED_CODES.has(code)) kinds.add('fenced');
    else if (code !== undefined && PRODUCER_STATE_CODES.has(code)) kinds.add('producer-state');
    else if (
      (code !== undefined && AUTH_CODES.has(code)) ||
      name === 'KafkaJSSASLAuthenticationError'
    )
      kinds.add('auth');
    else if (CONNECTION_NAMES.has(name) || err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET')
      kinds.add('connection');
    else if (TIMEOUT_NAMES.has(name)) kinds.add('timeout');
    else if (name === 'KafkaJSProtocolError' || name === 'KafkaJSNonRetriableError')
      kinds.add('rejected');
    visit(err.cause, depth + 1);
    if (Array.isArray(err.errors)) for (const inner of err.errors) visit(inner, depth + 1);
  };
  visit(error, 0);
  for (const kind of [
    'fenced',
    'producer-state',
    'auth',
    'connection',
    'timeout',
    'rejected',
  ] as const) {
    if (kinds.has(kind)) return kind;
  }
  return 'unknown';
}

import { checkSerializer } from '../core/check-serializer.js';
import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import {
  DEFAULT_KAFKA_OPTIONS,
  type KafkaLogLevel,
  type KafkaSaslOptions,
  type KafkaSslOptions,
  type ResolvedKafkaPoolOptions,
} from './kafka-options.js';
import {
  type OptionBag,
  checkBoolean,
  checkInt,
  checkMs,
  checkKnownKeys,
  checkObject,
  checkOneOf,
  checkOrdered,
  checkString,
  describeOptionValue,
} from '../core/option-checks.js';

const ROOT = 'kafka';
const TOP_KEYS = [
  'brokers',
  'clientId',
  'ssl',
  'sasl',
  'connectTimeoutMs',
  'startTimeoutMs',
  'requestTimeoutMs',
  'authenticationTimeoutMs',
  'sendTimeoutMs',
  'idempotent',
  'retry',
  'reconnect',
  'allowAutoTopicCreation',
  'logLevel',
  'transactions',
  'consumer',
] as const;
const RETRY_KEYS = ['retries', 'initialRetryTimeMs', 'maxRetryTimeMs'] as const;
const BACKOFF_KEYS = ['initialDelayMs', 'maxDelayMs'] as const;
const TX_KEYS = [
  'transactionalIdPrefix',
  'maxProducers',
  'minProducers',
  'acquireTimeoutMs',
  'maxWaiting',
  'transactionTimeoutMs',
  'idleTimeoutMs',
] as const;
const CONSUMER_KEYS = [
  'joinTimeoutMs',
  'stopTimeoutMs',
  'sessionTimeoutMs',
  'rebalanceTimeoutMs',
  'heartbeatIntervalMs',
  'retry',
  'restart',
] as const;
const RESTART_KEYS = ['initialDelayMs', 'maxDelayMs', 'maxRestarts', 'windowMs'] as const;
const LOG_LEVELS: readonly KafkaLogLevel[] = ['nothing', 'error', 'warn', 'info', 'debug'];
const BROKER_RE = /^(\[[0-9a-fA-F:.]+\]|[^\s:/@]+):(\d{1,5})$/;

/** Checks `kafka` options once and merges the defaults. Throws `InvalidPoolOptionsError` naming the key. */
export function validateKafkaOptions(input: unknown): ResolvedKafkaPoolOptions {
  const bag = checkObject(input, ROOT);
  checkKnownKeys(bag, ROOT, TOP_KEYS);
  const d = DEFAULT_KAFKA_OPTIONS;

  const idempotent = checkBoolean(bag, 'idempotent', ROOT, d.idempotent);
  const retry = validateRetry(bag.retry, `${ROOT}.retry`, d.retry);
  if (idempotent && retry.retries < 1) {
    throw new InvalidPoolOptionsError(
      `${ROOT}.retry.retries`,
      'an idempotent producer needs at least 1 retry',
      'set "kafka.retry.retries" >= 1, or "kafka.idempotent" to false',
    );
  }
  const reconnect = validateBackoff(bag.reconnect, `${ROOT}.reconnect`, d.reconnect);

  return {
    brokers: validateBrokers(bag.brokers),
    clientId: checkString(bag, 'clientId', ROOT, d.clientId) as string,
    ssl: validateSsl(bag.ssl),
    sasl: validateSasl(bag.sasl),
    connectTimeoutMs: checkMs(bag, 'connectTimeoutMs', ROOT, d.connectTimeoutMs, 1),
    startTimeoutMs: checkMs(bag, 'startTimeoutMs', ROOT, d.startTimeoutMs, 1),
    requestTimeoutMs: checkMs(bag, 'requestTimeoutMs', ROOT, d.requestTimeoutMs, 1),
    authenticationTimeoutMs: checkMs(
      bag,
      'authenticationTimeoutMs',
      ROOT,
      d.authenticationTimeoutMs,
      1,
    ),
    sendTimeoutMs: checkMs(bag, 'sendTimeoutMs', ROOT, d.sendTimeoutMs, 1),
    idempotent,
    retry,
    reconnect,
    allowAutoTopicCreation: checkBoolean(
      bag,
      'allowAutoTopicCreation',
      ROOT,
      d.allowAutoTopicCreation,
    ),
    logLevel: checkOneOf(bag, 'logLevel', ROOT, LOG_LEVELS, d.logLevel),
    transactions: validateTransactions(bag.transactions),
    consumer: validateConsumerDefaults(bag.consumer),
    serializer: checkSerializer(bag, ROOT),
  };
}

function validateBrokers(value: unknown): string[] {
  const key = `${ROOT}.brokers`;
  const fix = 'pass a non-empty array of "host:port" strings, e.g. ["127.0.0.1:9092"]';
  if (value === undefined) throw new InvalidPoolOptionsError(key, 'is required', fix);
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidPoolOptionsError(
      key,
      `must be a non-empty array, got ${describeOptionValue(value)}`,
      fix,
    );
  }
  return value.map((broker: unknown, i) => {
    const match = typeof broker === 'string' ? BROKER_RE.exec(broker) : null;
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65_535) {
      // A malformed entry may be a URL with credentials: describe its type only.
      throw new InvalidPoolOptionsError(
        `${key}[${i}]`,
        `must be "host:port", got a malformed ${typeof broker}`,
        fix,
      );
    }
    return broker as string;
  });
}

function validateSsl(value: unknown): KafkaSslOptions | undefined {
  if (value === undefined || typeof value === 'boolean') return value;
  // TLS options hold private keys: checked for shape only, never described.
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidPoolOptionsError(
      `${ROOT}.ssl`,
      `must be true/false or TLS options, got ${typeof value}`,
      'pass true or a tls.ConnectionOptions object',
    );
  }
  return value as KafkaSslOptions;
}

function validateSasl(value: unknown): KafkaSaslOptions | undefined {
  if (value === undefined) return undefined;
  const key = `${ROOT}.sasl`;
  const bag = checkObject(value, key);
  const mechanism = checkOneOf(
    bag,
    'mechanism',
    key,
    ['plain', 'scram-sha-256', 'scram-sha-512', 'aws', 'oauthbearer'] as const,
    'plain',
  );
  if (bag.mechanism === undefined) {
    throw new InvalidPoolOptionsError(
      `${key}.mechanism`,
      'is required',
      'set it to plain, scram-sha-256, scram-sha-512, aws or oauthbearer',
    );
  }
  switch (mechanism) {
    case 'plain':
    case 'scram-sha-256':
    case 'scram-sha-512':
      checkKnownKeys(bag, key, ['mechanism', 'username', 'password']);
      requireString(bag, 'username', key);
      requireString(bag, 'password', key, true);
      break;
    case 'aws':
      checkKnownKeys(bag, key, [
        'mechanism',
        'authorizationIdentity',
        'accessKeyId',
        'secretAccessKey',
        'sessionToken',
      ]);
      requireString(bag, 'authorizationIdentity', key);
      requireString(bag, 'accessKeyId', key, true);
      requireString(bag, 'secretAccessKey', key, true);
      checkString(bag, 'sessionToken', key, undefined, true);
      break;
    case 'oauthbearer':
      checkKnownKeys(bag, key, ['mechanism', 'oauthBearerProvider']);
      if (typeof bag.oauthBearerProvider !== 'function') {
        throw new InvalidPoolOptionsError(
          `${key}.oauthBearerProvider`,
          'must be a function',
          'pass an async function returning { value: token }',
        );
      }
      break;
  }
  return bag as unknown as KafkaSaslOptions;
}

function requireString(bag: OptionBag, prop: string, key: string, secret = false): void {
  if (bag[prop] === undefined) {
    throw new InvalidPoolOptionsError(`${key}.${prop}`, 'is required', `set "${key}.${prop}"`);
  }
  checkString(bag, prop, key, undefined, secret);
}

function validateRetry(
  value: unknown,
  key: string,
  d: { retries: number; initialRetryTimeMs: number; maxRetryTimeMs: number },
): { retries: number; initialRetryTimeMs: number; maxRetryTimeMs: number } {
  if (value === undefined) return { ...d };
  const bag = checkObject(value, key);
  checkKnownKeys(bag, key, RETRY_KEYS);
  const out = {
    retries: checkInt(bag, 'retries', key, d.retries, 0, 1_000),
    initialRetryTimeMs: checkMs(bag, 'initialRetryTimeMs', key, d.initialRetryTimeMs, 1),
    maxRetryTimeMs: checkMs(bag, 'maxRetryTimeMs', key, d.maxRetryTimeMs, 1),
  };
  checkOrdered(
    `${key}.initialRetryTimeMs`,
    out.initialRetryTimeMs,
    `${key}.maxRetryTimeMs`,
    out.maxRetryTimeMs,
  );
  return out;
}

function validateBackoff(
  value: unknown,
  key: string,
  d: { initialDelayMs: number; maxDelayMs: number },
): { initialDelayMs: number; maxDelayMs: number } {
  if (value === undefined) return { ...d };
  const bag = checkObject(value, key);
  checkKnownKeys(bag, key, BACKOFF_KEYS);
  const out = {
    initialDelayMs: checkMs(bag, 'initialDelayMs', key, d.initialDelayMs, 1),
    maxDelayMs: checkMs(bag, 'maxDelayMs', key, d.maxDelayMs, 1),
  };
  checkOrdered(`${key}.initialDelayMs`, out.initialDelayMs, `${key}.maxDelayMs`, out.maxDelayMs);
  return out;
}

function validateTransactions(value: unknown): ResolvedKafkaPoolOptions['transactions'] {
  if (value === undefined) return undefined;
  const key = `${ROOT}.transactions`;
  const d = DEFAULT_KAFKA_OPTIONS.transactions;
  const bag = checkObject(value, key);
  checkKnownKeys(bag, key, TX_KEYS);
  if (bag.transactionalIdPrefix === undefined) {
    throw new InvalidPoolOptionsError(
      `${key}.transactionalIdPrefix`,
      'is required when transactions are enabled',
      'set a prefix that is stable across restarts and unique per instance, e.g. "orders-svc-0"',
    );
  }
  const transactionalIdPrefix = checkString(bag, 'transactionalIdPrefix', key) as string;
  const maxProducers = checkInt(bag, 'maxProducers', key, d.maxProducers, 1, 1_000);
  const minProducers = checkInt(bag, 'minProducers', key, d.minProducers, 0);
  checkOrdered(`${key}.minProducers`, minProducers, `${key}.maxProducers`, maxProducers);
  return {
    transactionalIdPrefix,
    maxProducers,
    minProducers,
    acquireTimeoutMs: checkMs(bag, 'acquireTimeoutMs', key, d.acquireTimeoutMs, 1),
    maxWaiting: checkInt(bag, 'maxWaiting', key, d.maxWaiting, 0),
    // Brokers reject more than transaction.max.timeout.ms (15 min by default).
    transactionTimeoutMs: checkMs(bag, 'transactionTimeoutMs', key, d.transactionTimeoutMs, 1),
    idleTimeoutMs: checkMs(bag, 'idleTimeoutMs', key, d.idleTimeoutMs, 0),
  };
}

function validateConsumerDefaults(value: unknown): ResolvedKafkaPoolOptions['consumer'] {
  const key = `${ROOT}.consumer`;
  const d = DEFAULT_KAFKA_OPTIONS.consumer;
  const bag = value === undefined ? {} : checkObject(value, key);
  checkKnownKeys(bag, key, CONSUMER_KEYS);
  const sessionTimeoutMs = checkMs(bag, 'sessionTimeoutMs', key, d.sessionTimeoutMs, 1);
  const heartbeatIntervalMs = checkMs(bag, 'heartbeatIntervalMs', key, d.heartbeatIntervalMs, 1);
  if (heartbeatIntervalMs >= sessionTimeoutMs) {
    throw new InvalidPoolOptionsError(
      `${key}.heartbeatIntervalMs`,
      `must be lower than "${key}.sessionTimeoutMs" (${heartbeatIntervalMs} >= ${sessionTimeoutMs})`,
      'set it to about a third of sessionTimeoutMs',
    );
  }
  return {
    joinTimeoutMs: checkMs(bag, 'joinTimeoutMs', key, d.joinTimeoutMs, 1),
    stopTimeoutMs: checkMs(bag, 'stopTimeoutMs', key, d.stopTimeoutMs, 1),
    sessionTimeoutMs,
    rebalanceTimeoutMs: checkMs(bag, 'rebalanceTimeoutMs', key, d.rebalanceTimeoutMs, 1),
    heartbeatIntervalMs,
    retry: validateRetry(bag.retry, `${key}.retry`, d.retry),
    restart: validateRestartPolicy(bag.restart, `${key}.restart`, d.restart),
  };
}

export function validateRestartPolicy(
  value: unknown,
  key: string,
  d: { initialDelayMs: number; maxDelayMs: number; maxRestarts: number; windowMs: number },
): { initialDelayMs: number; maxDelayMs: number; maxRestarts: number; windowMs: number } {
  if (value === undefined) return { ...d };
  const bag = checkObject(value, key);
  checkKnownKeys(bag, key, RESTART_KEYS);
  const out = {
    initialDelayMs: checkMs(bag, 'initialDelayMs', key, d.initialDelayMs, 1),
    maxDelayMs: checkMs(bag, 'maxDelayMs', key, d.maxDelayMs, 1),
    maxRestarts: checkInt(bag, 'maxRestarts', key, d.maxRestarts, 0),
    windowMs: checkMs(bag, 'windowMs', key, d.windowMs, 1),
  };
  checkOrdered(`${key}.initialDelayMs`, out.initialDelayMs, `${key}.maxDelayMs`, out.maxDelayMs);
  return out;
}

/** Every secret string in the options, so log and error text can be scrubbed of them. */
export function collectSecrets(options: ResolvedKafkaPoolOptions): string[] {
  const secrets: string[] = [];
  const sasl = options.sasl as Record<string, unknown> | undefined;
  for (const k of ['password', 'secretAccessKey', 'sessionToken', 'accessKeyId']) {
    const v = sasl?.[k];
    if (typeof v === 'string' && v.length >= 3) secrets.push(v);
  }
  return secrets;
}

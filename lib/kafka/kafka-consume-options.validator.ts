import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import type { ResolvedKafkaPoolOptions } from './kafka-options.js';
import { validateRestartPolicy } from './kafka-options.validator.js';
import type { KafkaEachBatchHandler, KafkaEachMessageHandler } from './kafka-types.js';
import {
  checkBoolean,
  checkInt,
  checkMs,
  checkKnownKeys,
  checkObject,
  checkString,
  checkOrdered,
} from '../core/option-checks.js';

const KEY = 'kafka.consume';
const KEYS = [
  'groupId',
  'topics',
  'fromBeginning',
  'eachMessage',
  'eachBatch',
  'autoCommit',
  'autoCommitIntervalMs',
  'autoCommitThreshold',
  'eachBatchAutoResolve',
  'partitionsConsumedConcurrently',
  'readUncommitted',
  'maxBytesPerPartition',
  'maxWaitTimeMs',
  'sessionTimeoutMs',
  'rebalanceTimeoutMs',
  'heartbeatIntervalMs',
  'joinTimeoutMs',
  'stopTimeoutMs',
  'retry',
  'restart',
] as const;

export interface ResolvedConsumeOptions {
  groupId: string;
  topics: (string | RegExp)[];
  fromBeginning: boolean;
  eachMessage: KafkaEachMessageHandler | undefined;
  eachBatch: KafkaEachBatchHandler | undefined;
  autoCommit: boolean;
  autoCommitIntervalMs: number | undefined;
  autoCommitThreshold: number | undefined;
  eachBatchAutoResolve: boolean;
  partitionsConsumedConcurrently: number;
  readUncommitted: boolean;
  maxBytesPerPartition: number | undefined;
  maxWaitTimeMs: number | undefined;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  joinTimeoutMs: number;
  stopTimeoutMs: number;
  retry: { retries: number; initialRetryTimeMs: number; maxRetryTimeMs: number };
  restart: { initialDelayMs: number; maxDelayMs: number; maxRestarts: number; windowMs: number };
}

/** Checks one `consume()` call's options against the pool's consumer defaults. */
export function validateConsumeOptions(
  input: unknown,
  pool: ResolvedKafkaPoolOptions,
): ResolvedConsumeOptions {
  const bag = checkObject(input, KEY);
  checkKnownKeys(bag, KEY, KEYS);
  const d = pool.consumer;
  if (bag.groupId === undefined)
    throw new InvalidPoolOptionsError(
      `${KEY}.groupId`,
      'is required',
      'pass the consumer group id',
    );
  const groupId = checkString(bag, 'groupId', KEY) as string;

  const topics = bag.topics;
  if (
    !Array.isArray(topics) ||
    topics.length === 0 ||
    !topics.every((t) => (typeof t === 'string' && t.length > 0) || t instanceof RegExp)
  ) {
    throw new InvalidPoolOptionsError(
      `${KEY}.topics`,
      'must be a non-empty array of topic names or RegExps',
      'pass e.g. ["orders"]',
    );
  }
  const { eachMessage, eachBatch } = bag;
  if ((eachMessage === undefined) === (eachBatch === undefined)) {
    throw new InvalidPoolOptionsError(
      `${KEY}.eachMessage`,
      'exactly one of eachMessage / eachBatch is required',
      'pass one handler function',
    );
  }
  for (const [name, fn] of [
    ['eachMessage', eachMessage],
    ['eachBatch', eachBatch],
  ] as const) {
    if (fn !== undefined && typeof fn !== 'function') {
      throw new InvalidPoolOptionsError(
        `${KEY}.${name}`,
        'must be an async function',
        `pass (payload) => Promise<void>`,
      );
    }
  }

  const sessionTimeoutMs = checkMs(bag, 'sessionTimeoutMs', KEY, d.sessionTimeoutMs, 1);
  const heartbeatIntervalMs = checkMs(bag, 'heartbeatIntervalMs', KEY, d.heartbeatIntervalMs, 1);
  checkOrdered(
    `${KEY}.heartbeatIntervalMs`,
    heartbeatIntervalMs + 1,
    `${KEY}.sessionTimeoutMs`,
    sessionTimeoutMs,
  );

  let retry = d.retry;
  if (bag.retry !== undefined) {
    const r = checkObject(bag.retry, `${KEY}.retry`);
    checkKnownKeys(r, `${KEY}.retry`, ['retries', 'initialRetryTimeMs', 'maxRetryTimeMs']);
    retry = {
      retries: checkInt(r, 'retries', `${KEY}.retry`, d.retry.retries, 0, 1_000),
      initialRetryTimeMs: checkMs(
        r,
        'initialRetryTimeMs',
        `${KEY}.retry`,
        d.retry.initialRetryTimeMs,
        1,
      ),
      maxRetryTimeMs: checkMs(r, 'maxRetryTimeMs', `${KEY}.retry`, d.retry.maxRetryTimeMs, 1),
    };
  }

  return {
    groupId,
    topics: [...(topics as (string | RegExp)[])],
    fromBeginning: checkBoolean(bag, 'fromBeginning', KEY, false),
    eachMessage: eachMessage as KafkaEachMessageHandler | undefined,
    eachBatch: eachBatch as KafkaEachBatchHandler | undefined,
    autoCommit: checkBoolean(bag, 'autoCommit', KEY, true),
    autoCommitIntervalMs:
      bag.autoCommitIntervalMs === undefined
        ? undefined
        : checkMs(bag, 'autoCommitIntervalMs', KEY, 0, 1),
    autoCommitThreshold:
      bag.autoCommitThreshold === undefined
        ? undefined
        : checkInt(bag, 'autoCommitThreshold', KEY, 0, 1),
    eachBatchAutoResolve: checkBoolean(bag, 'eachBatchAutoResolve', KEY, true),
    partitionsConsumedConcurrently: checkInt(
      bag,
      'partitionsConsumedConcurrently',
      KEY,
      1,
      1,
      1_000,
    ),
    readUncommitted: checkBoolean(bag, 'readUncommitted', KEY, false),
    maxBytesPerPartition:
      bag.maxBytesPerPartition === undefined
        ? undefined
        : checkInt(bag, 'maxBytesPerPartition', KEY, 0, 1),
    maxWaitTimeMs:
      bag.maxWaitTimeMs === undefined ? undefined : checkMs(bag, 'maxWaitTimeMs', KEY, 0, 0),
    sessionTimeoutMs,
    rebalanceTimeoutMs: checkMs(bag, 'rebalanceTimeoutMs', KEY, d.rebalanceTimeoutMs, 1),
    heartbeatIntervalMs,
    joinTimeoutMs: checkMs(bag, 'joinTimeoutMs', KEY, d.joinTimeoutMs, 1),
    stopTimeoutMs: checkMs(bag, 'stopTimeoutMs', KEY, d.stopTimeoutMs, 1),
    retry,
    restart: validateRestartPolicy(bag.restart, `${KEY}.restart`, d.restart),
  };
}

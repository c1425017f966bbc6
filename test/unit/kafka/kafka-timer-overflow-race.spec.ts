import { describe, expect, it } from 'vitest';
import { InvalidPoolOptionsError } from '../../../lib/core/errors/invalid-pool-options.error.js';
import { MAX_TIMER_MS } from '../../../lib/core/option-checks.js';
import { KafkaPool } from '../../../lib/kafka/index.js';
import { validateConsumeOptions } from '../../../lib/kafka/kafka-consume-options.validator.js';
import { validateKafkaOptions } from '../../../lib/kafka/kafka-options.validator.js';

/**
 * Every Kafka duration ends in a timer (or an int32 protocol field): Node fires a timer above
 * 2^31-1 ms after 1 ms, so such a value would make e.g. every send time out at once. Each `*Ms`
 * option is capped at MAX_TIMER_MS with an error naming the key and the fix.
 */

const OVER = MAX_TIMER_MS + 1;
const BASE = { brokers: ['b:1'] };
const TX = { transactionalIdPrefix: 'p' };

/** The heartbeat must stay below the session timeout, itself capped. */
const heartbeat = (v: number) =>
  v > MAX_TIMER_MS
    ? { heartbeatIntervalMs: v }
    : { heartbeatIntervalMs: v - 1, sessionTimeoutMs: v };

/** Options setting one duration to `v`, plus what it needs to be valid at MAX_TIMER_MS. */
const POOL_MS_KEYS: Record<string, (v: number) => Record<string, unknown>> = {
  'kafka.connectTimeoutMs': (v) => ({ connectTimeoutMs: v }),
  'kafka.startTimeoutMs': (v) => ({ startTimeoutMs: v }),
  'kafka.requestTimeoutMs': (v) => ({ requestTimeoutMs: v }),
  'kafka.authenticationTimeoutMs': (v) => ({ authenticationTimeoutMs: v }),
  'kafka.sendTimeoutMs': (v) => ({ sendTimeoutMs: v }),
  'kafka.retry.initialRetryTimeMs': (v) => ({
    retry: { initialRetryTimeMs: v, maxRetryTimeMs: v },
  }),
  'kafka.retry.maxRetryTimeMs': (v) => ({ retry: { maxRetryTimeMs: v } }),
  'kafka.reconnect.initialDelayMs': (v) => ({ reconnect: { initialDelayMs: v, maxDelayMs: v } }),
  'kafka.reconnect.maxDelayMs': (v) => ({ reconnect: { maxDelayMs: v } }),
  'kafka.transactions.acquireTimeoutMs': (v) => ({ transactions: { ...TX, acquireTimeoutMs: v } }),
  'kafka.transactions.transactionTimeoutMs': (v) => ({
    transactions: { ...TX, transactionTimeoutMs: v },
  }),
  'kafka.transactions.idleTimeoutMs': (v) => ({ transactions: { ...TX, idleTimeoutMs: v } }),
  'kafka.consumer.joinTimeoutMs': (v) => ({ consumer: { joinTimeoutMs: v } }),
  'kafka.consumer.stopTimeoutMs': (v) => ({ consumer: { stopTimeoutMs: v } }),
  'kafka.consumer.sessionTimeoutMs': (v) => ({ consumer: { sessionTimeoutMs: v } }),
  'kafka.consumer.rebalanceTimeoutMs': (v) => ({ consumer: { rebalanceTimeoutMs: v } }),
  'kafka.consumer.heartbeatIntervalMs': (v) => ({ consumer: heartbeat(v) }),
  'kafka.consumer.retry.initialRetryTimeMs': (v) => ({
    consumer: { retry: { initialRetryTimeMs: v, maxRetryTimeMs: v } },
  }),
  'kafka.consumer.retry.maxRetryTimeMs': (v) => ({ consumer: { retry: { maxRetryTimeMs: v } } }),
  'kafka.consumer.restart.initialDelayMs': (v) => ({
    consumer: { restart: { initialDelayMs: v, maxDelayMs: v } },
  }),
  'kafka.consumer.restart.maxDelayMs': (v) => ({ consumer: { restart: { maxDelayMs: v } } }),
  'kafka.consumer.restart.windowMs': (v) => ({ consumer: { restart: { windowMs: v } } }),
};

const CONSUME_MS_KEYS: Record<string, (v: number) => Record<string, unknown>> = {
  'kafka.consume.autoCommitIntervalMs': (v) => ({ autoCommitIntervalMs: v }),
  'kafka.consume.maxWaitTimeMs': (v) => ({ maxWaitTimeMs: v }),
  'kafka.consume.sessionTimeoutMs': (v) => ({ sessionTimeoutMs: v }),
  'kafka.consume.rebalanceTimeoutMs': (v) => ({ rebalanceTimeoutMs: v }),
  'kafka.consume.heartbeatIntervalMs': (v) => heartbeat(v),
  'kafka.consume.joinTimeoutMs': (v) => ({ joinTimeoutMs: v }),
  'kafka.consume.stopTimeoutMs': (v) => ({ stopTimeoutMs: v }),
  'kafka.consume.retry.initialRetryTimeMs': (v) => ({
    retry: { initialRetryTimeMs: v, maxRetryTimeMs: v },
  }),
  'kafka.consume.retry.maxRetryTimeMs': (v) => ({ retry: { maxRetryTimeMs: v } }),
  'kafka.consume.restart.initialDelayMs': (v) => ({
    restart: { initialDelayMs: v, maxDelayMs: v },
  }),
  'kafka.consume.restart.maxDelayMs': (v) => ({ restart: { maxDelayMs: v } }),
  'kafka.consume.restart.windowMs': (v) => ({ restart: { windowMs: v } }),
};

/** Dotted paths of every `*Ms` value in a resolved options object. */
function msPaths(value: unknown, prefix: string): string[] {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([k, v]) =>
    typeof v === 'object'
      ? msPaths(v, `${prefix}.${k}`)
      : k.endsWith('Ms')
        ? [`${prefix}.${k}`]
        : [],
  );
}

function rejection(fn: () => unknown): InvalidPoolOptionsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPoolOptionsError);
    return error as InvalidPoolOptionsError;
  }
  throw new Error('expected InvalidPoolOptionsError');
}

const pool = validateKafkaOptions(BASE);
const consume = (extra: Record<string, unknown>) =>
  validateConsumeOptions(
    { groupId: 'g', topics: ['t'], eachMessage: async () => undefined, ...extra },
    pool,
  );

describe('Kafka durations are capped at MAX_TIMER_MS', () => {
  it('the tables below cover every *Ms option the validators resolve', () => {
    const resolved = validateKafkaOptions({ ...BASE, transactions: TX });
    expect(Object.keys(POOL_MS_KEYS).sort()).toEqual(msPaths(resolved, 'kafka').sort());
    const resolvedConsume = consume({ autoCommitIntervalMs: 1, maxWaitTimeMs: 1 });
    expect(Object.keys(CONSUME_MS_KEYS).sort()).toEqual(
      msPaths(resolvedConsume, 'kafka.consume').sort(),
    );
  });

  it.each(Object.entries(POOL_MS_KEYS))('%s: rejects 2^31, accepts 2^31-1', (key, set) => {
    const e = rejection(() => validateKafkaOptions({ ...BASE, ...set(OVER) }));
    expect(e.key).toBe(key);
    expect(e.message).toContain(`must be <= ${MAX_TIMER_MS} ms`);
    expect(e.message).toMatch(/Fix: set ".+" to an integer between \d+ and 2147483647/);
    expect(() => validateKafkaOptions({ ...BASE, ...set(MAX_TIMER_MS) })).not.toThrow();
  });

  it.each(Object.entries(CONSUME_MS_KEYS))('%s: rejects 2^31, accepts 2^31-1', (key, set) => {
    const e = rejection(() => consume(set(OVER)));
    expect(e.key).toBe(key);
    expect(e.message).toContain(`must be <= ${MAX_TIMER_MS} ms`);
    expect(() => consume(set(MAX_TIMER_MS))).not.toThrow();
  });

  it('a pool with sendTimeoutMs 2^31 is refused instead of timing every send out at once', () => {
    const e = rejection(() => new KafkaPool({ ...BASE, sendTimeoutMs: 2 ** 31 }));
    expect(e.key).toBe('kafka.sendTimeoutMs');
    expect(
      rejection(() => new KafkaPool({ ...BASE, consumer: { joinTimeoutMs: 2 ** 32 } })).key,
    ).toBe('kafka.consumer.joinTimeoutMs');
  });

  it('non-integers and values below the minimum keep their usual message', () => {
    const e = rejection(() => validateKafkaOptions({ ...BASE, sendTimeoutMs: 1.5 }));
    expect(e.key).toBe('kafka.sendTimeoutMs');
    expect(e.message).toContain(`must be an integer between 1 and ${MAX_TIMER_MS}`);
    expect(rejection(() => validateKafkaOptions({ ...BASE, sendTimeoutMs: 0 })).key).toBe(
      'kafka.sendTimeoutMs',
    );
  });
});

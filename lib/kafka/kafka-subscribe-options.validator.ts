import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import {
  checkRetryPolicy,
  type HandlerRetryPolicy,
  NO_RETRY,
} from '../core/handler-retry-policy.js';
import {
  checkBoolean,
  checkInt,
  checkKnownKeys,
  checkObject,
  describeOptionValue,
  optionKey,
} from '../core/option-checks.js';
import type { KafkaSubscribeOptions } from './kafka-subscribe-options.js';

const KEYS = [
  'topics',
  'groupId',
  'fromBeginning',
  'retry',
  'deadLetterTopic',
  'partitionsConsumedConcurrently',
] as const satisfies readonly (keyof KafkaSubscribeOptions)[];

/** Kafka's own rule for topic names (legal characters, at most 249 of them). */
const TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

export interface ResolvedSubscribeOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly fromBeginning: boolean;
  readonly retry: HandlerRetryPolicy;
  /** Where each topic's failed records go; `false` drops them. */
  readonly deadLetterTopics: ReadonlyMap<string, string | false>;
  readonly partitionsConsumedConcurrently: number;
}

/**
 * Checks `KafkaPool.subscribe()`'s options (the same ones `@KafkaSubscribe` takes) before anything
 * starts. Keys are named after the group: `subscribe(orders-group).retry.attempts`.
 */
export function validateKafkaSubscribeOptions(
  input: unknown,
  handler: unknown,
): ResolvedSubscribeOptions {
  const bag = checkObject(
    input,
    'subscribe',
    'an object like { topics: "orders", groupId: "billing" }',
  );
  const groupId = bag['groupId'];
  if (typeof groupId !== 'string' || groupId.trim() === '') {
    throw new InvalidPoolOptionsError(
      'subscribe.groupId',
      groupId === undefined
        ? 'is required'
        : `must be a non-empty string, got ${describeOptionValue(groupId)}`,
      'pass the consumer group id, e.g. groupId: "billing"',
    );
  }
  const key = `subscribe(${groupId})`;
  checkKnownKeys(bag, key, KEYS);
  if (typeof handler !== 'function') {
    throw new InvalidPoolOptionsError(
      optionKey(key, 'handler'),
      `must be a function, got ${describeOptionValue(handler)}`,
      'pass an async (payload, message) => void',
    );
  }
  const topics = checkTopics(bag['topics'], optionKey(key, 'topics'));
  return {
    groupId,
    topics,
    fromBeginning: checkBoolean(bag, 'fromBeginning', key, false),
    retry: checkRetryPolicy(bag['retry'], optionKey(key, 'retry')) ?? NO_RETRY,
    deadLetterTopics: deadLetterTopics(bag['deadLetterTopic'], topics, key),
    partitionsConsumedConcurrently: checkInt(
      bag,
      'partitionsConsumedConcurrently',
      key,
      1,
      1,
      1_000,
    ),
  };
}

function checkTopics(value: unknown, key: string): string[] {
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidPoolOptionsError(
      key,
      `must be a topic name or a non-empty list of them, got ${describeOptionValue(value)}`,
      'pass e.g. topics: "orders" or topics: ["orders", "refunds"]',
    );
  }
  list.forEach((topic, i) => checkTopicName(topic, Array.isArray(value) ? `${key}[${i}]` : key));
  return [...new Set(list as string[])];
}

function checkTopicName(topic: unknown, key: string): asserts topic is string {
  if (typeof topic !== 'string' || !TOPIC_NAME.test(topic)) {
    throw new InvalidPoolOptionsError(
      key,
      `must be a Kafka topic name (1-249 of a-z A-Z 0-9 . _ -), got ${describeOptionValue(topic)}`,
      'use the topic name as created on the broker (patterns are not supported here)',
    );
  }
}

function deadLetterTopics(
  value: unknown,
  topics: readonly string[],
  parent: string,
): Map<string, string | false> {
  const key = optionKey(parent, 'deadLetterTopic');
  if (value !== undefined && value !== false && typeof value !== 'string') {
    throw new InvalidPoolOptionsError(
      key,
      `must be a topic name or false, got ${describeOptionValue(value)}`,
      'name an existing topic, pass false to drop failed records, or leave it out for `${topic}.dlq`',
    );
  }
  if (typeof value === 'string') checkTopicName(value, key);
  if (typeof value === 'string' && topics.includes(value)) {
    throw new InvalidPoolOptionsError(
      key,
      `is one of the subscribed topics ("${value}"): failed records would come back to this handler`,
      'name a topic of its own (default `${topic}.dlq`), or false to drop failed records',
    );
  }
  if (value === undefined)
    for (const topic of topics)
      if (!TOPIC_NAME.test(`${topic}.dlq`))
        throw new InvalidPoolOptionsError(
          key,
          `is left out, and the default "${topic.slice(0, 20)}….dlq" is longer than Kafka's 249 characters`,
          'name the dead-letter topic, or pass false',
        );
  return new Map(
    topics.map((topic) => [
      topic,
      value === undefined ? `${topic}.dlq` : (value as string | false),
    ]),
  );
}

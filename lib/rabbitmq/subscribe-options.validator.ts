import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import {
  checkRetryPolicy,
  NO_RETRY,
  type HandlerRetryPolicy,
} from '../core/handler-retry-policy.js';
import {
  checkBoolean,
  checkInt,
  checkKnownKeys,
  checkObject,
  checkOneOf,
  checkString,
  describeOptionValue,
  optionKey,
  type OptionBag,
} from '../core/option-checks.js';
import type { RabbitQueueOptions } from './subscribe-options.js';
import { deadLetterQueueName, delayQueueName, retryDelays } from './retry-queues.js';

/** Where a message goes when its handler gives up: a publish target, or nowhere (`false`: dropped). */
export type DeadLetterRoute =
  | {
      exchange: string;
      /** Undefined: the message's original routing key. */
      routingKey: string | undefined;
      /** The library declares this queue (the default `${queue}.dlq`). */
      declareQueue?: string;
    }
  | false;

/** `subscribe()` options after validation and defaults. */
export interface ResolvedSubscribeOptions {
  queue: string;
  exchange: string | undefined;
  routingKey: string | string[] | undefined;
  queueOptions: RabbitQueueOptions;
  prefetch: number | undefined;
  retry: HandlerRetryPolicy;
  deadLetter: DeadLetterRoute;
}

const SUBSCRIBE_KEYS = [
  'queue',
  'exchange',
  'routingKey',
  'queueOptions',
  'prefetch',
  'retry',
  'deadLetter',
];
/** AMQP names are short strings: at most 255 bytes. */
const MAX_NAME_BYTES = 255;

/**
 * Validates `subscribe()` options with keys such as `subscribe(orders).retry.attempts`, so the
 * error points at the handler as well as the option.
 */
export function validateSubscribeOptions(input: unknown): ResolvedSubscribeOptions {
  const bag = checkObject(input, 'subscribe', "{ queue: 'orders', … }");
  const queue = checkString(bag, 'queue', 'subscribe');
  if (queue === undefined) {
    throw new InvalidPoolOptionsError(
      'subscribe.queue',
      'is missing',
      'name the queue the handler consumes',
    );
  }
  const key = `subscribe(${queue})`;
  checkKnownKeys(bag, key, SUBSCRIBE_KEYS);
  const queueOptions = checkQueueOptions(bag['queueOptions'], optionKey(key, 'queueOptions'));
  const exchange = checkString(bag, 'exchange', key);
  const routingKey = checkRoutingKey(bag['routingKey'], optionKey(key, 'routingKey'));
  if (routingKey !== undefined && exchange === undefined) {
    throw new InvalidPoolOptionsError(
      optionKey(key, 'routingKey'),
      'is set without an exchange',
      'add the exchange the queue is bound to, or remove routingKey',
    );
  }
  const prefetch =
    bag['prefetch'] === undefined ? undefined : checkInt(bag, 'prefetch', key, 20, 1, 65_535);
  const retry = checkRetryPolicy(bag['retry'], optionKey(key, 'retry')) ?? NO_RETRY;
  const deadLetter = checkDeadLetter(bag['deadLetter'], optionKey(key, 'deadLetter'), queue);

  const derived = [
    ...retryDelays(retry).map((ms) => delayQueueName(queue, ms)),
    ...(deadLetter !== false && deadLetter.declareQueue !== undefined
      ? [deadLetter.declareQueue]
      : []),
  ];
  const longest = [queue, ...derived].find((name) => Buffer.byteLength(name) > MAX_NAME_BYTES);
  if (longest !== undefined) {
    throw new InvalidPoolOptionsError(
      optionKey(key, 'queue'),
      `makes the queue name "${longest.slice(0, 40)}…" longer than ${MAX_NAME_BYTES} bytes (AMQP's limit)`,
      'use a shorter queue name',
    );
  }
  return { queue, exchange, routingKey, queueOptions, prefetch, retry, deadLetter };
}

function checkQueueOptions(value: unknown, key: string): RabbitQueueOptions {
  if (value === undefined) return { durable: true };
  const bag = checkObject(value, key, "{ durable?, type?: 'classic' | 'quorum', arguments? }");
  checkKnownKeys(bag, key, ['durable', 'type', 'arguments']);
  const durable = checkBoolean(bag, 'durable', key, true);
  const out: RabbitQueueOptions = { durable };
  if (bag['type'] !== undefined) {
    out.type = checkOneOf(bag, 'type', key, ['classic', 'quorum'] as const, 'classic');
    if (out.type === 'quorum' && !durable) {
      throw new InvalidPoolOptionsError(
        optionKey(key, 'durable'),
        'cannot be false for a quorum queue (quorum queues are always durable)',
        "remove durable: false, or use type: 'classic'",
      );
    }
  }
  if (bag['arguments'] !== undefined) {
    out.arguments = checkObject(bag['arguments'], optionKey(key, 'arguments'));
  }
  return out;
}

function checkRoutingKey(value: unknown, key: string): string | string[] | undefined {
  if (value === undefined || typeof value === 'string') return value;
  if (Array.isArray(value) && value.length > 0 && value.every((k) => typeof k === 'string')) {
    return value as string[];
  }
  throw new InvalidPoolOptionsError(
    key,
    `must be a string or a non-empty list of strings, got ${describeOptionValue(value)}`,
    "pass e.g. 'orders.created' or ['orders.created', 'orders.updated']",
  );
}

function checkDeadLetter(value: unknown, key: string, queue: string): DeadLetterRoute {
  if (value === false) return false;
  if (value === undefined) {
    const dlq = deadLetterQueueName(queue);
    return { exchange: '', routingKey: dlq, declareQueue: dlq };
  }
  const bag: OptionBag = checkObject(
    value,
    key,
    "{ exchange: 'dead-letters', routingKey? }, or false to drop",
  );
  checkKnownKeys(bag, key, ['exchange', 'routingKey']);
  const exchange = bag['exchange'];
  if (typeof exchange !== 'string') {
    throw new InvalidPoolOptionsError(
      optionKey(key, 'exchange'),
      exchange === undefined
        ? 'is missing'
        : `must be a string, got ${describeOptionValue(exchange)}`,
      "name the exchange dead letters are published to ('' with a routingKey names a queue)",
    );
  }
  const routingKey = bag['routingKey'];
  if (routingKey !== undefined && typeof routingKey !== 'string') {
    throw new InvalidPoolOptionsError(
      optionKey(key, 'routingKey'),
      `must be a string, got ${describeOptionValue(routingKey)}`,
      "pass a routing key, or leave it out to keep the message's original one",
    );
  }
  if (exchange === '' && (routingKey === undefined || routingKey === '')) {
    throw new InvalidPoolOptionsError(
      optionKey(key, 'routingKey'),
      "is required with the default exchange ''",
      'set routingKey to the dead-letter queue, or name an exchange',
    );
  }
  return { exchange, routingKey };
}

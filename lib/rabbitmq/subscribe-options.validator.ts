import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import {
  checkRetryPolicy,
  NO_RETRY,
  type HandlerRetryPolicy,
} from '../core/handler-retry-policy.js';
import {
  checkKnownKeys,
  checkObject,
  describeOptionValue,
  optionKey,
  type OptionBag,
} from '../core/option-checks.js';
import type { RabbitQueueOptions } from './subscribe-options.js';
import { checkHandlerQueue, checkQueueName } from './handler-queue-options.validator.js';
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
  const queue = checkQueueName(bag, 'subscribe', 'name the queue the handler consumes');
  const key = `subscribe(${queue})`;
  checkKnownKeys(bag, key, SUBSCRIBE_KEYS);
  const { exchange, routingKey, queueOptions, prefetch } = checkHandlerQueue(bag, key);
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

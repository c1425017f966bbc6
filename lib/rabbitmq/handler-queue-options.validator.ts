import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import {
  checkBoolean,
  checkInt,
  checkObject,
  checkKnownKeys,
  checkOneOf,
  checkString,
  describeOptionValue,
  optionKey,
  type OptionBag,
} from '../core/option-checks.js';
import type { RabbitQueueOptions } from './subscribe-options.js';

/** The queue part shared by `subscribe()` and `serveRpc()` options, checked. */
export interface CheckedHandlerQueue {
  exchange: string | undefined;
  routingKey: string | string[] | undefined;
  queueOptions: RabbitQueueOptions;
  prefetch: number | undefined;
}

/**
 * Checks `exchange`, `routingKey`, `queueOptions` and `prefetch` of a declarative handler's options
 * (`key` names the handler, e.g. `subscribe(orders)`), so both kinds of handler say the same thing
 * about the same mistake.
 */
export function checkHandlerQueue(bag: OptionBag, key: string): CheckedHandlerQueue {
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
  return { exchange, routingKey, queueOptions, prefetch };
}

/** The queue name, required: `parent.queue`. */
export function checkQueueName(bag: OptionBag, parent: string, fix: string): string {
  const queue = checkString(bag, 'queue', parent);
  if (queue === undefined) {
    throw new InvalidPoolOptionsError(optionKey(parent, 'queue'), 'is missing', fix);
  }
  return queue;
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

import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import {
  checkBoolean,
  checkInt,
  checkKnownKeys,
  checkObject,
  checkOneOf,
  checkString,
  describeOptionValue,
  optionKey,
} from '../core/option-checks.js';
import type { HandlerQueueSpec } from './handler-queue.js';
import type { RabbitRpcOptions } from './subscribe-options.js';

const KEYS = ['queue', 'exchange', 'routingKey', 'queueOptions', 'prefetch'];
const QUEUE_OPTION_KEYS = ['durable', 'type', 'arguments'];

/** `serveRpc()` options, checked: the queue spec to declare and the consumer's prefetch. */
export interface ResolvedRpcServeOptions {
  spec: HandlerQueueSpec;
  prefetch: number | undefined;
}

/**
 * Checks `serveRpc()`/`@RabbitRpc` options once, before anything is declared, with the same
 * messages as the pool options (`InvalidPoolOptionsError` naming the key, e.g. `serveRpc.prefetch`).
 */
export function validateRpcServeOptions(
  input: RabbitRpcOptions,
  parent = 'serveRpc',
): ResolvedRpcServeOptions {
  const o = checkObject(input, parent, "{ queue: 'orders.rpc' }");
  checkKnownKeys(o, parent, KEYS);
  const queue = checkString(o, 'queue', parent);
  if (queue === undefined) {
    throw new InvalidPoolOptionsError(
      optionKey(parent, 'queue'),
      'is required',
      "pass the queue the requests arrive on, e.g. { queue: 'orders.rpc' }",
    );
  }
  const exchange = checkString(o, 'exchange', parent);
  const routingKey = o['routingKey'];
  const routingKeyKey = optionKey(parent, 'routingKey');
  if (
    routingKey !== undefined &&
    typeof routingKey !== 'string' &&
    !(Array.isArray(routingKey) && routingKey.every((k) => typeof k === 'string'))
  ) {
    throw new InvalidPoolOptionsError(
      routingKeyKey,
      `must be a string or an array of strings, got ${describeOptionValue(routingKey)}`,
      "pass e.g. 'orders.get' or ['orders.get', 'orders.find']",
    );
  }
  if (routingKey !== undefined && exchange === undefined) {
    throw new InvalidPoolOptionsError(
      routingKeyKey,
      'binds the queue, which needs an exchange',
      `add "${optionKey(parent, 'exchange')}", or leave the routing key out and send requests to the queue`,
    );
  }
  const spec: HandlerQueueSpec = { queue };
  if (exchange !== undefined) spec.exchange = exchange;
  if (routingKey !== undefined) spec.routingKey = routingKey as string | string[];
  if (o['queueOptions'] !== undefined) {
    const key = optionKey(parent, 'queueOptions');
    const q = checkObject(
      o['queueOptions'],
      key,
      "{ durable?, type?: 'classic' | 'quorum', arguments? }",
    );
    checkKnownKeys(q, key, QUEUE_OPTION_KEYS);
    spec.queueOptions = { durable: checkBoolean(q, 'durable', key, true) };
    if (q['type'] !== undefined) {
      spec.queueOptions.type = checkOneOf(
        q,
        'type',
        key,
        ['classic', 'quorum'] as const,
        'classic',
      );
    }
    if (q['arguments'] !== undefined) {
      spec.queueOptions.arguments = checkObject(q['arguments'], optionKey(key, 'arguments'));
    }
  }
  const prefetch =
    o['prefetch'] === undefined ? undefined : checkInt(o, 'prefetch', parent, 0, 1, 65_535);
  return { spec, prefetch };
}

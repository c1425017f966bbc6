import { checkKnownKeys, checkObject } from '../core/option-checks.js';
import type { HandlerQueueSpec } from './handler-queue.js';
import { checkHandlerQueue, checkQueueName } from './handler-queue-options.validator.js';
import type { RabbitRpcOptions } from './subscribe-options.js';

const KEYS = ['queue', 'exchange', 'routingKey', 'queueOptions', 'prefetch'];

/** `serveRpc()` options, checked: the queue spec to declare and the consumer's prefetch. */
export interface ResolvedRpcServeOptions {
  spec: HandlerQueueSpec;
  prefetch: number | undefined;
}

/**
 * Checks `serveRpc()`/`@RabbitRpc` options once, before anything is declared, with the same
 * messages as `subscribe()` (`InvalidPoolOptionsError` naming the key, e.g. `serveRpc(orders.rpc).prefetch`).
 */
export function validateRpcServeOptions(input: RabbitRpcOptions): ResolvedRpcServeOptions {
  const o = checkObject(input, 'serveRpc', "{ queue: 'orders.rpc' }");
  const queue = checkQueueName(
    o,
    'serveRpc',
    "pass the queue the requests arrive on, e.g. { queue: 'orders.rpc' }",
  );
  const key = `serveRpc(${queue})`;
  checkKnownKeys(o, key, KEYS);
  const { exchange, routingKey, queueOptions, prefetch } = checkHandlerQueue(o, key);
  const spec: HandlerQueueSpec = { queue, queueOptions };
  if (exchange !== undefined) spec.exchange = exchange;
  if (routingKey !== undefined) spec.routingKey = routingKey;
  return { spec, prefetch };
}

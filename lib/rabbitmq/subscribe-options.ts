import type { HandlerRetryPolicy } from '../core/handler-retry-policy.js';
import type { RabbitMessage } from './rabbit-message.js';

/** How a handler's queue is declared when missing (amqplib `assertQueue`). */
export interface RabbitQueueOptions {
  /** Default true. */
  durable?: boolean;
  /** Default 'classic'. Quorum queues are durable, replicated, and count deliveries themselves. */
  type?: 'classic' | 'quorum';
  /** Extra `x-…` arguments, e.g. `{ 'x-max-length': 10000 }`. */
  arguments?: Record<string, unknown>;
}

/** Where a message goes after its last attempt, or at once when it cannot be handled at all. */
export interface RabbitDeadLetterTarget {
  exchange: string;
  /** Default: the message's original routing key. */
  routingKey?: string;
}

/** `RabbitMqPool.subscribe()` — what `@RabbitSubscribe` passes down, less the pool name (DESIGN §6). */
export interface RabbitSubscribeOptions {
  queue: string;
  /** Binds `queue` to this exchange (which must exist) with `routingKey`. */
  exchange?: string;
  /** One or more binding keys; default '' (what fanout and headers exchanges expect). */
  routingKey?: string | string[];
  queueOptions?: RabbitQueueOptions;
  /** Unacked deliveries in flight for this handler; default the pool's consumer default. */
  prefetch?: number;
  /** Default: no retry (the first failure dead-letters). */
  retry?: HandlerRetryPolicy;
  /** Default: the queue `${queue}.dlq` (declared by the library); `false` drops after the last attempt. */
  deadLetter?: RabbitDeadLetterTarget | false;
}

/** `RabbitMqPool.serveRpc()` — what `@RabbitRpc` passes down, less the pool name. */
export interface RabbitRpcOptions {
  queue: string;
  exchange?: string;
  routingKey?: string | string[];
  queueOptions?: RabbitQueueOptions;
  prefetch?: number;
}

/** Options of `RabbitMqPool.request()`. */
export interface RabbitRequestOptions {
  /** Deadline for the reply; default the pool's `rpc.timeoutMs`. */
  timeoutMs?: number;
  headers?: Record<string, unknown>;
}

/** Resolve → ack (or, for RPC, the reply); throw → the retry policy (or, for RPC, an error reply). */
export type RabbitHandler<T = unknown, R = void> = (
  payload: T,
  message: RabbitMessage,
) => Promise<R>;

/** A running declarative handler: attached until `cancel()`, re-attached after every reconnect. */
export interface RabbitSubscription {
  readonly queue: string;
  /** Attached to its queue right now (false while reconnecting). */
  readonly active: boolean;
  /** Handlers running now. */
  readonly inFlight: number;
  /** Stops deliveries, lets running handlers finish (up to `timeoutMs`), closes the channel. Idempotent. */
  cancel(opts?: { timeoutMs?: number }): Promise<void>;
}

/**
 * The declarative face of `RabbitMqPool` (DESIGN §6), as an interface so the Nest layer and the
 * testing kit's in-memory pool depend on the capability, not on the class.
 */
export interface RabbitMessaging {
  /** Declares the queue (and its retry and dead-letter queues), binds it, attaches `handler`. */
  subscribe<T = unknown>(
    options: RabbitSubscribeOptions,
    handler: RabbitHandler<T>,
  ): Promise<RabbitSubscription>;
  /** Serves requests on `options.queue`: the handler's return value is the reply. */
  serveRpc<T = unknown, R = unknown>(
    options: RabbitRpcOptions,
    handler: RabbitHandler<T, R>,
  ): Promise<RabbitSubscription>;
  /** Sends a request over direct reply-to and resolves with the reply's payload. */
  request<R = unknown>(
    exchange: string,
    routingKey: string,
    payload: unknown,
    options?: RabbitRequestOptions,
  ): Promise<R>;
}

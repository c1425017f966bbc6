import type { ConsumeMessage, MessageProperties } from 'amqplib';
import { errorCode, failureText } from '../core/failure-headers.js';
import type { PublishOptions } from './publish-message.js';

/**
 * The headers a declarative handler's retries and dead letters carry (README "Retries and dead
 * letters"). Plain data in, plain data out: the subscription publishes what these return.
 */
export const RETRY_HEADER = Object.freeze({
  /** Delivery number of a retry copy: 2 on the first retry, … (absent: 1). */
  attempt: 'x-mq-attempt',
  originalExchange: 'x-mq-original-exchange',
  originalRoutingKey: 'x-mq-original-routing-key',
  /** Dead letters only. */
  error: 'x-mq-error',
  errorCode: 'x-mq-error-code',
  attempts: 'x-mq-attempts',
  originalQueue: 'x-mq-original-queue',
  failedAt: 'x-mq-failed-at',
});

/**
 * Headers never copied: `CC`/`BCC` would route the copy to those queues again, and the broker's
 * own dead-letter bookkeeping (`x-death`, …) is about our delay loop, which `x-mq-*` describes; a
 * client re-encoding `x-death` also changes its field types, which brokers have choked on.
 */
const NOT_COPIED = new Set(['CC', 'BCC', 'x-death']);
const isNotCopied = (name: string): boolean =>
  NOT_COPIED.has(name) || name.startsWith('x-first-death-') || name.startsWith('x-last-death-');

/** Properties copied onto a retry or dead letter. Not `userId`: the broker checks it against the publishing user. */
const COPIED_PROPERTIES = [
  'contentType',
  'contentEncoding',
  'deliveryMode',
  'priority',
  'correlationId',
  'replyTo',
  'expiration',
  'messageId',
  'timestamp',
  'type',
  'appId',
] as const satisfies ReadonlyArray<keyof MessageProperties & keyof PublishOptions>;

/** A copy of a delivery to publish: where to, and with which properties and headers. */
export interface Republish {
  exchange: string;
  routingKey: string;
  options: PublishOptions;
}

/** The delivery number of `msg`: its `x-mq-attempt` header, or 1. */
export function attemptOf(msg: ConsumeMessage): number {
  const value = (msg.properties.headers as Record<string, unknown> | undefined)?.[
    RETRY_HEADER.attempt
  ];
  const n = typeof value === 'number' ? value : typeof value === 'string' ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** Where the message was first published: kept in headers across the delay queue, else its delivery fields. */
export function originalRoute(msg: ConsumeMessage): { exchange: string; routingKey: string } {
  const headers = (msg.properties.headers ?? {}) as Record<string, unknown>;
  const exchange = headers[RETRY_HEADER.originalExchange];
  const routingKey = headers[RETRY_HEADER.originalRoutingKey];
  return typeof exchange === 'string' && typeof routingKey === 'string'
    ? { exchange, routingKey }
    : { exchange: msg.fields.exchange, routingKey: msg.fields.routingKey };
}

/** The copy that waits in `delayQueue` and then comes back to the handler queue as delivery `attempt + 1`. */
export function retryCopy(msg: ConsumeMessage, attempt: number, delayQueue: string): Republish {
  const route = originalRoute(msg);
  return {
    exchange: '',
    routingKey: delayQueue,
    options: copyOptions(msg, {
      [RETRY_HEADER.attempt]: attempt + 1,
      [RETRY_HEADER.originalExchange]: route.exchange,
      [RETRY_HEADER.originalRoutingKey]: route.routingKey,
    }),
  };
}

export interface DeadLetterCause {
  queue: string;
  attempts: number;
  error: unknown;
  failedAt: Date;
}

/**
 * The copy for the dead-letter target: the original headers, plus why and where from. Without a
 * routing key of its own the target gets the original one. `x-mq-attempt` is dropped, so a dead
 * letter shovelled back to the handler queue starts again at attempt 1.
 */
export function deadLetterCopy(
  msg: ConsumeMessage,
  target: { exchange: string; routingKey: string | undefined },
  cause: DeadLetterCause,
): Republish {
  const route = originalRoute(msg);
  const headers: Record<string, unknown> = {
    [RETRY_HEADER.error]: failureText(cause.error),
    [RETRY_HEADER.errorCode]: errorCode(cause.error),
    [RETRY_HEADER.attempts]: cause.attempts,
    [RETRY_HEADER.originalQueue]: cause.queue,
    [RETRY_HEADER.originalExchange]: route.exchange,
    [RETRY_HEADER.originalRoutingKey]: route.routingKey,
    [RETRY_HEADER.failedAt]: cause.failedAt.toISOString(),
  };
  const options = copyOptions(msg, headers);
  delete (options.headers as Record<string, unknown>)[RETRY_HEADER.attempt];
  return {
    exchange: target.exchange,
    routingKey: target.routingKey ?? route.routingKey,
    options,
  };
}

/**
 * The delivery's properties and headers for a copy, with `extra` headers on top. `mandatory`: a copy
 * the broker cannot route (a delay or dead-letter queue deleted under us) fails the publish
 * instead of being confirmed and silently dropped, so the original is not acked.
 */
function copyOptions(msg: ConsumeMessage, extra: Record<string, unknown>): PublishOptions {
  const props = msg.properties;
  const options: PublishOptions = { mandatory: true };
  for (const name of COPIED_PROPERTIES) {
    const value: unknown = props[name];
    if (value !== undefined && value !== null) (options as Record<string, unknown>)[name] = value;
  }
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries((props.headers ?? {}) as Record<string, unknown>)) {
    if (!isNotCopied(name)) headers[name] = value;
  }
  options.headers = Object.assign(headers, extra);
  return options;
}

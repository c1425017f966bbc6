import { retryDelayMs, type HandlerRetryPolicy } from '../core/handler-retry-policy.js';

/**
 * Retries without a broker plugin: per handler queue and per distinct delay, a queue
 * `${queue}.retry.${delayMs}` with `x-message-ttl: delayMs` and no consumer, whose expired
 * messages dead-letter through the default exchange straight back to the handler queue
 * (`x-dead-letter-routing-key: queue`). Back to that one queue, not to the original exchange: a
 * retry must not be delivered again to every other queue bound there. One queue per delay, because
 * RabbitMQ expires only from the head of a queue: with one TTL per queue the head always expires
 * first, whereas per-message TTLs in one queue would hold a short delay behind a long one.
 */
export function delayQueueName(queue: string, delayMs: number): string {
  return `${queue}.retry.${delayMs}`;
}

/** The default dead-letter target: a durable queue the library declares. */
export function deadLetterQueueName(queue: string): string {
  return `${queue}.dlq`;
}

/** The distinct delays a policy can wait, in order: one delay queue each. */
export function retryDelays(policy: HandlerRetryPolicy): number[] {
  const delays = new Set<number>();
  for (let attempt = 1; attempt < policy.attempts; attempt++) {
    delays.add(retryDelayMs(policy, attempt));
  }
  return [...delays];
}

import type { Channel } from 'amqplib';
import { declareHandlerQueue } from './handler-queue.js';
import { delayQueueName, retryDelays } from './retry-queues.js';
import type { ResolvedSubscribeOptions } from './subscribe-options.validator.js';
import { topologyMismatchFrom } from './topology-mismatch.js';

/**
 * Declares what a subscription needs before it consumes: its queue (bound to its exchange), one
 * delay queue per distinct retry delay, and the default dead-letter queue. Run on every (re-)attach,
 * so a queue deleted while the handler was away is back before deliveries resume. Delay queues are
 * classic whatever the handler queue's type (a TTL queue without consumers gains nothing from
 * replication on brokers before quorum TTL support) and as durable as the handler queue; the
 * dead-letter queue has the handler queue's type and is always durable.
 */
export async function declareSubscriptionQueues(
  ch: Channel,
  spec: ResolvedSubscribeOptions,
): Promise<void> {
  const { queue, queueOptions } = spec;
  await declareHandlerQueue(ch, {
    queue,
    ...(spec.exchange === undefined ? {} : { exchange: spec.exchange }),
    ...(spec.routingKey === undefined ? {} : { routingKey: spec.routingKey }),
    queueOptions,
  });
  for (const delayMs of retryDelays(spec.retry)) {
    await assertQueue(ch, delayQueueName(queue, delayMs), {
      durable: queueOptions.durable ?? true,
      arguments: {
        'x-message-ttl': delayMs,
        'x-dead-letter-exchange': '',
        'x-dead-letter-routing-key': queue,
      },
    });
  }
  if (spec.deadLetter !== false && spec.deadLetter.declareQueue !== undefined) {
    await assertQueue(ch, spec.deadLetter.declareQueue, {
      durable: true,
      arguments: queueOptions.type === undefined ? {} : { 'x-queue-type': queueOptions.type },
    });
  }
}

async function assertQueue(
  ch: Channel,
  name: string,
  options: { durable: boolean; arguments: Record<string, unknown> },
): Promise<void> {
  try {
    await ch.assertQueue(name, options);
  } catch (error) {
    throw topologyMismatchFrom(error, { kind: 'queue', name }) ?? error;
  }
}

import type { Channel } from 'amqplib';

import type { RabbitQueueOptions } from './subscribe-options.js';
import { topologyMismatchFrom } from './topology-mismatch.js';

/** The queue a declarative handler (subscriber or RPC server) consumes, and how it is bound. */
export interface HandlerQueueSpec {
  queue: string;
  exchange?: string;
  routingKey?: string | string[];
  queueOptions?: RabbitQueueOptions;
  /** Extra queue arguments the library itself needs (e.g. dead-lettering); the user's win on conflict. */
  libraryArguments?: Record<string, unknown>;
}

/** The routing keys a spec binds with: '' when none is given (what fanout and headers exchanges expect). */
export function bindingKeys(routingKey: string | string[] | undefined): string[] {
  if (routingKey === undefined) return [''];
  return typeof routingKey === 'string' ? [routingKey] : routingKey;
}

/**
 * Declares the handler's queue (idempotent when it exists with the same properties) and binds it.
 * A queue that exists with other properties fails with TopologyMismatchError: consuming from it
 * would run the handler with semantics nobody asked for (e.g. a classic queue where quorum was meant).
 */
export async function declareHandlerQueue(channel: Channel, spec: HandlerQueueSpec): Promise<void> {
  const { queue, queueOptions = {} } = spec;
  const args: Record<string, unknown> = { ...spec.libraryArguments, ...queueOptions.arguments };
  if (queueOptions.type !== undefined) args['x-queue-type'] = queueOptions.type;
  try {
    await channel.assertQueue(queue, { durable: queueOptions.durable ?? true, arguments: args });
  } catch (error) {
    throw topologyMismatchFrom(error, { kind: 'queue', name: queue }) ?? error;
  }
  if (spec.exchange === undefined) return;
  for (const key of bindingKeys(spec.routingKey)) {
    await channel.bindQueue(queue, spec.exchange, key);
  }
}

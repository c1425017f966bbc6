import { TopologyMismatchError } from './errors/topology-mismatch.error.js';

/** RabbitMQ's reply text names the property: "inequivalent arg 'x-queue-type' for queue 'q' in vhost '/': …". */
const INEQUIVALENT_ARG = /inequivalent arg '([^']+)'/;
const PRECONDITION_FAILED = 406;

/**
 * The typed error for a declaration the broker refused with 406 PRECONDITION_FAILED (the entity
 * exists with other properties), or undefined for any other failure, which the caller rethrows.
 */
export function topologyMismatchFrom(
  error: unknown,
  entity: { kind: 'exchange' | 'queue'; name: string },
): TopologyMismatchError | undefined {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object' || e.code !== PRECONDITION_FAILED) return undefined;
  const message = typeof e.message === 'string' ? e.message : '';
  // amqplib wraps the reply: 'Operation failed: QueueDeclare; 406 (PRECONDITION-FAILED) with message "…"'.
  const reply = /with message "(.*)"$/.exec(message)?.[1] ?? message;
  return new TopologyMismatchError(entity, INEQUIVALENT_ARG.exec(reply)?.[1], reply, {
    cause: error,
  });
}

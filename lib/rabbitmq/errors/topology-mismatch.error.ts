import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/**
 * A declared exchange or queue exists on the broker with different properties (RabbitMQ answers
 * 406 PRECONDITION_FAILED). Startup stops: the app would otherwise run against a topology it did not
 * ask for. Fix the declaration, or delete the entity on the broker so it can be re-created.
 */
export class TopologyMismatchError extends MqPoolError {
  readonly code = 'MQ_TOPOLOGY_MISMATCH';

  constructor(
    readonly entity: { kind: 'exchange' | 'queue'; name: string },
    /** The differing property as the broker names it (e.g. `x-queue-type`, `durable`), when it says. */
    readonly argument: string | undefined,
    /** The broker's own reply text, e.g. "PRECONDITION_FAILED - inequivalent arg 'durable' …". */
    readonly brokerReply: string,
    options?: { cause?: unknown },
  ) {
    super(
      `The ${entity.kind} "${entity.name}" exists on the broker with different properties` +
        (argument === undefined ? '' : ` (argument "${argument}" differs)`) +
        `: ${brokerReply}. Fix: declare it as it exists, or delete it on the broker so it is re-created.`,
      options,
    );
  }
}

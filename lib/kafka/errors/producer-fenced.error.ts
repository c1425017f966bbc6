import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/**
 * The broker fenced this transactional producer: another producer initialized the same
 * transactional id (a newer instance with the same prefix), or the transaction outlived
 * `transactionTimeoutMs` and the coordinator aborted it. The producer was destroyed and replaced;
 * the transaction did not commit.
 */
export class ProducerFencedError extends MqPoolError {
  readonly code = 'MQ_KAFKA_PRODUCER_FENCED';

  constructor(
    readonly transactionalId: string,
    options?: { cause?: unknown },
  ) {
    super(
      `Kafka transactional producer "${transactionalId}" was fenced; the transaction did not commit. ` +
        'Make "kafka.transactions.transactionalIdPrefix" unique per live instance, and keep transactions shorter than "transactionTimeoutMs".',
      options,
    );
  }
}

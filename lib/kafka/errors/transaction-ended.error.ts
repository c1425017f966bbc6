import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/** The transaction object was used after its `withTransaction` callback settled (e.g. a stray un-awaited send). */
export class TransactionEndedError extends MqPoolError {
  readonly code = 'MQ_KAFKA_TRANSACTION_ENDED';

  constructor(readonly transactionalId: string) {
    super(
      `Kafka transaction on "${transactionalId}" already ended; await every send inside the withTransaction callback.`,
    );
  }
}

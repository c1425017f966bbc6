import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/** `withTransaction()` was called but the pool has no `transactions` options. */
export class TransactionsNotConfiguredError extends MqPoolError {
  readonly code = 'MQ_KAFKA_TRANSACTIONS_NOT_CONFIGURED';

  constructor() {
    super(
      'Kafka transactions are not configured. Set "kafka.transactions.transactionalIdPrefix" (stable across restarts, unique per instance).',
    );
  }
}

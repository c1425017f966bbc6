import { MqPoolError } from '../../core/errors/mq-pool.error.js';

export type TransactionPhase = 'begin' | 'commit' | 'abort';

/**
 * Beginning or ending a transaction failed. After a failed `commit` the outcome is UNKNOWN until
 * the replacement producer re-initializes the id (which completes or aborts it on the broker).
 */
export class TransactionFailedError extends MqPoolError {
  readonly code = 'MQ_KAFKA_TRANSACTION_FAILED';

  constructor(
    readonly transactionalId: string,
    readonly phase: TransactionPhase,
    options?: { cause?: unknown },
  ) {
    const outcome =
      phase === 'commit'
        ? 'outcome unknown'
        : phase === 'abort'
          ? 'the broker aborts it when the producer is replaced'
          : 'nothing was sent';
    super(
      `Kafka transaction on "${transactionalId}" failed to ${phase} (${outcome}); the producer was replaced.`,
      options,
    );
  }
}

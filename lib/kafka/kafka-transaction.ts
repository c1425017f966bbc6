import { TransactionEndedError } from './errors/transaction-ended.error.js';
import type { DriverTransaction } from './kafka-driver.js';
import type {
  KafkaProducerBatch,
  KafkaProducerRecord,
  KafkaRecordMetadata,
  KafkaTopicOffsets,
} from './kafka-types.js';

/** What the `withTransaction` callback gets. Commit and abort are the pool's job, not the caller's. */
export interface KafkaTransaction {
  /** `<prefix>-<slot>` of the producer leased for this transaction. */
  readonly transactionalId: string;
  send(record: KafkaProducerRecord): Promise<KafkaRecordMetadata[]>;
  sendBatch(batch: KafkaProducerBatch): Promise<KafkaRecordMetadata[]>;
  /** Consume-transform-produce: commits these consumer-group offsets atomically with the records. */
  sendOffsets(offsets: { consumerGroupId: string; topics: KafkaTopicOffsets[] }): Promise<void>;
}

/** How the facade reports a failed or timed-out call back to the transaction runner. */
export interface TransactionCallGuard {
  bounded<T>(work: () => Promise<T>, topic: string): Promise<T>;
}

/** The object handed to the callback: guarded so it is unusable once the callback settled. */
export class TransactionFacade implements KafkaTransaction {
  private ended = false;

  constructor(
    readonly transactionalId: string,
    private readonly tx: DriverTransaction,
    private readonly guard: TransactionCallGuard,
  ) {}

  send(record: KafkaProducerRecord): Promise<KafkaRecordMetadata[]> {
    if (this.ended) return Promise.reject(new TransactionEndedError(this.transactionalId));
    return this.guard.bounded(() => this.tx.send(record), record.topic);
  }

  sendBatch(batch: KafkaProducerBatch): Promise<KafkaRecordMetadata[]> {
    if (this.ended) return Promise.reject(new TransactionEndedError(this.transactionalId));
    return this.guard.bounded(
      () => this.tx.sendBatch(batch),
      batch.topicMessages.map((t) => t.topic).join(','),
    );
  }

  sendOffsets(offsets: { consumerGroupId: string; topics: KafkaTopicOffsets[] }): Promise<void> {
    if (this.ended) return Promise.reject(new TransactionEndedError(this.transactionalId));
    return this.guard.bounded(
      () => this.tx.sendOffsets(offsets),
      `offsets of group ${offsets.consumerGroupId}`,
    );
  }

  end(): void {
    this.ended = true;
  }
}

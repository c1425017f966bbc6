import { TransactionEndedError } from './errors/transaction-ended.error.js';
import type { DriverTransaction } from './kafka-driver.js';
import { activeTracer } from '../telemetry/index.js';
import { traceKafkaSend, traceKafkaSendBatch } from './kafka-tracing.js';
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
    /** kafkajs is patched by instrumentation-kafkajs (see kafka-tracing.ts). */
    private readonly instrumented = false,
  ) {}

  send(record: KafkaProducerRecord): Promise<KafkaRecordMetadata[]> {
    if (this.ended) return Promise.reject(new TransactionEndedError(this.transactionalId));
    const tracer = activeTracer();
    if (tracer === undefined) return this.sendRecord(record);
    return traceKafkaSend(tracer, this.traceOptions(), record, (r) => this.sendRecord(r));
  }

  sendBatch(batch: KafkaProducerBatch): Promise<KafkaRecordMetadata[]> {
    if (this.ended) return Promise.reject(new TransactionEndedError(this.transactionalId));
    const tracer = activeTracer();
    if (tracer === undefined) return this.sendBatchRecords(batch);
    return traceKafkaSendBatch(tracer, this.traceOptions(), batch, (b) => this.sendBatchRecords(b));
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

  private sendRecord(record: KafkaProducerRecord): Promise<KafkaRecordMetadata[]> {
    return this.guard.bounded(() => this.tx.send(record), record.topic);
  }

  private sendBatchRecords(batch: KafkaProducerBatch): Promise<KafkaRecordMetadata[]> {
    return this.guard.bounded(
      () => this.tx.sendBatch(batch),
      batch.topicMessages.map((t) => t.topic).join(','),
    );
  }

  private traceOptions(): { instrumented: boolean; transactionalId: string } {
    return { instrumented: this.instrumented, transactionalId: this.transactionalId };
  }
}

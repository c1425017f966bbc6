import type { Clock } from '../core/clock.js';
import type { MqLogger } from '../core/logger.js';
import type { ResourceFactory } from '../core/resource-factory.js';
import type { DriverProducer, KafkaDriver, KafkaRetryPolicy } from './kafka-driver.js';
import { SlotAllocator } from './slot-allocator.js';
import { errorMessage, withDeadline } from '../core/with-deadline.js';

/** One pooled transactional producer. `broken` is set by its holder; validate-on-borrow then drops it. */
export interface TransactionalProducer {
  readonly slot: number;
  readonly transactionalId: string;
  readonly producer: DriverProducer;
  broken: boolean;
}

export interface TransactionalProducerFactoryOptions {
  transactionalIdPrefix: string;
  transactionTimeoutMs: number;
  retry: KafkaRetryPolicy;
  allowAutoTopicCreation: boolean;
  /** Bound of a disconnect in `destroy()`. */
  disconnectTimeoutMs: number;
}

/**
 * Creates transactional producers for the core `Pool`. Ids are `<prefix>-<lowest free slot>`,
 * so they are stable across restarts and reused as producers are replaced.
 */
export class TransactionalProducerFactory implements ResourceFactory<TransactionalProducer> {
  private readonly slots = new SlotAllocator();

  constructor(
    private readonly driver: KafkaDriver,
    private readonly options: TransactionalProducerFactoryOptions,
    private readonly clock: Clock,
    private readonly logger: MqLogger,
    private readonly scrub: (text: string) => string,
  ) {}

  async create(signal?: AbortSignal): Promise<TransactionalProducer> {
    const slot = this.slots.take();
    const transactionalId = `${this.options.transactionalIdPrefix}-${slot}`;
    const producer = this.driver.producer({
      idempotent: true,
      transactionalId,
      transactionTimeoutMs: this.options.transactionTimeoutMs,
      retry: this.options.retry,
      allowAutoTopicCreation: this.options.allowAutoTopicCreation,
    });
    try {
      await producer.connect();
      // Initialize the producer id now (an empty transaction sends only InitProducerId): this
      // fences a predecessor holding the same id and lets the broker abort its open transaction
      // here, at creation, not inside the first caller's transaction.
      const warmUp = await producer.beginTransaction();
      await warmUp.abort();
      if (signal?.aborted) throw new Error('pool draining');
      this.logger.debug('Kafka transactional producer ready', { transactionalId });
      return { slot, transactionalId, producer, broken: false };
    } catch (error) {
      this.slots.free(slot);
      void this.disconnect(producer, transactionalId);
      throw error;
    }
  }

  async destroy(resource: TransactionalProducer): Promise<void> {
    // Freed first: a replacement with this id fences whatever the old producer still does.
    this.slots.free(resource.slot);
    await this.disconnect(resource.producer, resource.transactionalId);
  }

  validate(resource: TransactionalProducer): boolean {
    return !resource.broken;
  }

  /** Slots in use (for tests and stats). */
  get slotsInUse(): number {
    return this.slots.size;
  }

  private async disconnect(producer: DriverProducer, transactionalId: string): Promise<void> {
    const ms = this.options.disconnectTimeoutMs;
    try {
      await withDeadline(
        producer.disconnect(),
        ms,
        this.clock,
        () => new Error(`disconnect took over ${ms}ms`),
      );
    } catch (error) {
      this.logger.debug('Kafka transactional producer disconnect failed', {
        transactionalId,
        error: this.scrub(errorMessage(error)),
      });
    }
  }
}

import type { Clock } from '../core/clock.js';
import type { MqLogger } from '../core/logger.js';
import type { PoolMetricsRecorder } from '../core/metrics-recorder.js';
import { Pool } from '../core/pool.js';
import type { DrainReport, PoolStats } from '../core/pool-stats.js';
import type { TypedEmitter } from '../core/typed-emitter.js';
import { ProducerFencedError } from './errors/producer-fenced.error.js';
import { SendFailedError } from './errors/send-failed.error.js';
import { SendTimeoutError } from './errors/send-timeout.error.js';
import {
  TransactionFailedError,
  type TransactionPhase,
} from './errors/transaction-failed.error.js';
import type { DriverTransaction, KafkaDriver, KafkaRetryPolicy } from './kafka-driver.js';
import type { KafkaPoolEvents } from './kafka-events.js';
import type { KafkaMetricsRecorder } from './kafka-metrics.js';
import { TransactionFacade, type KafkaTransaction } from './kafka-transaction.js';
import {
  type TransactionalProducer,
  TransactionalProducerFactory,
} from './transactional-producer-factory.js';
import { errorMessage, withDeadline } from '../core/with-deadline.js';
import {
  activeContext,
  ATTR,
  activeTracer,
  recordFailure,
  runWithSpan,
  type Span,
  startMessagingSpan,
  traceAcquire,
  type Tracer,
} from '../telemetry/index.js';
import { kafkajsInstrumented } from './kafka-tracing.js';

export interface TransactionalProducerPoolOptions {
  name: string;
  transactionalIdPrefix: string;
  maxProducers: number;
  minProducers: number;
  acquireTimeoutMs: number;
  maxWaiting: number;
  transactionTimeoutMs: number;
  idleTimeoutMs: number;
  /** Deadline of each send, commit and abort inside a transaction. */
  sendTimeoutMs: number;
  retry: KafkaRetryPolicy;
  allowAutoTopicCreation: boolean;
}

export interface TransactionalProducerPoolDeps {
  clock: Clock;
  logger: MqLogger;
  metrics: KafkaMetricsRecorder;
  poolMetrics: PoolMetricsRecorder | undefined;
  events: TypedEmitter<KafkaPoolEvents>;
  random: () => number;
  scrub: (text: string) => string;
}

/**
 * Transactions on a bounded pool of transactional producers (kafkajs allows one open transaction
 * per producer). Each `run()` leases one producer exclusively: begin → callback → commit on resolve,
 * abort on throw. A producer that was fenced, failed to end its transaction, or whose call timed
 * out is destroyed, never returned: its replacement re-initializes the same transactional id,
 * which completes or aborts whatever the broker still holds open for it.
 */
export class TransactionalProducerPool {
  private readonly pool: Pool<TransactionalProducer>;
  private readonly factory: TransactionalProducerFactory;

  constructor(
    private readonly driver: KafkaDriver,
    private readonly options: TransactionalProducerPoolOptions,
    private readonly deps: TransactionalProducerPoolDeps,
  ) {
    this.factory = new TransactionalProducerFactory(
      driver,
      {
        transactionalIdPrefix: options.transactionalIdPrefix,
        transactionTimeoutMs: options.transactionTimeoutMs,
        retry: transactionalRetry(options.retry),
        allowAutoTopicCreation: options.allowAutoTopicCreation,
        disconnectTimeoutMs: options.sendTimeoutMs,
      },
      deps.clock,
      deps.logger,
      deps.scrub,
    );
    this.pool = new Pool(this.factory, {
      name: options.name,
      max: options.maxProducers,
      min: options.minProducers,
      acquireTimeoutMs: options.acquireTimeoutMs,
      maxWaiting: options.maxWaiting,
      idleTimeoutMs: options.idleTimeoutMs,
      // validate() is a flag read: check every borrow so a broken producer is never handed out.
      validateAfterIdleMs: 0,
      clock: deps.clock,
      logger: deps.logger,
      random: deps.random,
      ...(deps.poolMetrics ? { metrics: deps.poolMetrics } : {}),
    });
  }

  run<T>(
    fn: (tx: KafkaTransaction) => Promise<T>,
    acquire: { signal?: AbortSignal; timeoutMs?: number } = {},
  ): Promise<T> {
    const tracer = activeTracer();
    if (tracer === undefined) return this.runOnLease(fn, acquire, undefined);
    return this.runTraced(tracer, fn, acquire);
  }

  /**
   * The transaction as one INTERNAL span "transaction <prefix>" (its sends are PRODUCER spans under
   * it; a transaction is not itself a message): pool wait event, transactional id, outcome.
   */
  private async runTraced<T>(
    tracer: Tracer,
    fn: (tx: KafkaTransaction) => Promise<T>,
    acquire: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<T> {
    const parent = activeContext();
    const span = startMessagingSpan(tracer, {
      name: `transaction ${this.options.transactionalIdPrefix}`,
      kind: 'internal',
      attributes: { [ATTR.system]: 'kafka', [ATTR.pool]: this.options.name },
      parent,
    });
    try {
      const result = await runWithSpan(parent, span, () => this.runOnLease(fn, acquire, span));
      span.end();
      return result;
    } catch (error) {
      recordFailure(span, error);
      span.end();
      throw error;
    }
  }

  private async runOnLease<T>(
    fn: (tx: KafkaTransaction) => Promise<T>,
    acquire: { signal?: AbortSignal; timeoutMs?: number },
    span: Span | undefined,
  ): Promise<T> {
    const lease =
      span === undefined
        ? await this.pool.acquire(acquire)
        : await traceAcquire(
            span,
            this.options.name,
            () => this.pool.stats(),
            () => this.pool.acquire(acquire),
          );
    const producer = lease.resource;
    span?.setAttribute(ATTR.transactionalId, producer.transactionalId);
    const outcome = (o: 'committed' | 'aborted' | 'failed'): void => {
      span?.setAttribute(ATTR.transactionOutcome, o);
    };
    const start = this.deps.clock.now();
    const seconds = (): number => (this.deps.clock.now() - start) / 1000;

    let tx: DriverTransaction;
    try {
      tx = await this.bounded(producer.producer.beginTransaction(), 'begin');
    } catch (error) {
      await this.replace(lease.destroy.bind(lease), producer, error);
      this.deps.metrics.transactionEnded('failed', seconds());
      outcome('failed');
      throw this.typed(error, producer, 'begin');
    }

    const facade = new TransactionFacade(
      producer.transactionalId,
      tx,
      { bounded: (work, topic) => this.guardedCall(work, topic, producer) },
      span !== undefined && kafkajsInstrumented(this.driver.name),
    );
    let result: T;
    try {
      result = await fn(facade);
    } catch (callbackError) {
      facade.end();
      try {
        await this.bounded(tx.abort(), 'abort');
        if (producer.broken)
          await this.replace(
            lease.destroy.bind(lease),
            producer,
            'a call inside the transaction failed',
          );
        else lease.release();
        this.deps.metrics.transactionEnded('aborted', seconds());
        outcome('aborted');
      } catch (abortError) {
        await this.replace(lease.destroy.bind(lease), producer, abortError);
        this.deps.metrics.transactionEnded('failed', seconds());
        outcome('failed');
      }
      throw callbackError;
    }

    facade.end();
    try {
      await this.bounded(tx.commit(), 'commit');
    } catch (commitError) {
      await this.replace(lease.destroy.bind(lease), producer, commitError);
      this.deps.metrics.transactionEnded('failed', seconds());
      outcome('failed');
      throw this.typed(commitError, producer, 'commit');
    }
    lease.release();
    this.deps.metrics.transactionEnded('committed', seconds());
    outcome('committed');
    return result;
  }

  stats(): PoolStats {
    return this.pool.stats();
  }

  drain(deadlineMs: number): Promise<DrainReport> {
    return this.pool.drain(deadlineMs);
  }

  close(): Promise<void> {
    return this.pool.close();
  }

  /** A send/sendOffsets inside the transaction: deadline, typed error, and a bad producer marked broken. */
  private async guardedCall<T>(
    work: () => Promise<T>,
    topic: string,
    producer: TransactionalProducer,
  ): Promise<T> {
    const start = this.deps.clock.now();
    const ms = this.options.sendTimeoutMs;
    try {
      const value = await withDeadline(
        work(),
        ms,
        this.deps.clock,
        () => new SendTimeoutError(topic, ms),
      );
      this.deps.metrics.sendSucceeded((this.deps.clock.now() - start) / 1000);
      return value;
    } catch (error) {
      const seconds = (this.deps.clock.now() - start) / 1000;
      if (error instanceof SendTimeoutError) {
        producer.broken = true; // a request may still be in flight on it: never reuse it
        this.deps.metrics.sendFailed('timeout', seconds);
        throw error;
      }
      const kind = this.driver.classifyError(error);
      if (kind === 'fenced' || kind === 'producer-state') producer.broken = true;
      this.deps.metrics.sendFailed(kind === 'producer-state' ? 'unknown' : kind, seconds);
      if (kind === 'fenced')
        throw new ProducerFencedError(producer.transactionalId, { cause: error });
      throw new SendFailedError(topic, kind, this.deps.scrub(errorMessage(error)), {
        cause: error,
      });
    }
  }

  private bounded<T>(work: Promise<T>, phase: TransactionPhase): Promise<T> {
    const ms = this.options.sendTimeoutMs;
    return withDeadline(
      work,
      ms,
      this.deps.clock,
      () => new Error(`transaction ${phase} not acknowledged within ${ms}ms`),
    );
  }

  private async replace(
    destroy: (reason?: unknown) => Promise<void>,
    producer: TransactionalProducer,
    reason: unknown,
  ): Promise<void> {
    producer.broken = true;
    const text = typeof reason === 'string' ? reason : this.deps.scrub(errorMessage(reason));
    this.deps.logger.warn('Kafka transactional producer replaced', {
      transactionalId: producer.transactionalId,
      reason: text,
    });
    this.deps.events.emit('producerReplaced', {
      transactionalId: producer.transactionalId,
      reason: text,
    });
    await destroy(reason);
  }

  private typed(error: unknown, producer: TransactionalProducer, phase: TransactionPhase): Error {
    if (this.driver.classifyError(error) === 'fenced')
      return new ProducerFencedError(producer.transactionalId, { cause: error });
    return new TransactionFailedError(producer.transactionalId, phase, { cause: error });
  }
}

/**
 * A transaction begun right after the previous one committed on the same producer often gets
 * CONCURRENT_TRANSACTIONS (the coordinator is still writing the commit markers); the client
 * retries it with its request backoff. The Java client retries this after ~20 ms; a 100+ ms
 * first backoff would cap each producer near 10 transactions/s. Other errors back off from there.
 */
const TRANSACTIONAL_FIRST_RETRY_MS = 20;

function transactionalRetry(retry: KafkaRetryPolicy): KafkaRetryPolicy {
  return {
    retries: Math.max(retry.retries, 8),
    initialRetryTimeMs: Math.min(retry.initialRetryTimeMs, TRANSACTIONAL_FIRST_RETRY_MS),
    maxRetryTimeMs: retry.maxRetryTimeMs,
  };
}

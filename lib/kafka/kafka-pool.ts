import { AsyncLocalStorage } from 'node:async_hooks';
import { type Clock, SYSTEM_CLOCK } from '../core/clock.js';
import { PoolClosedError } from '../core/errors/pool-closed.error.js';
import { guardRecorder } from '../core/guard-recorder.js';
import { type MqLogger, NOOP_LOGGER } from '../core/logger.js';
import { TypedEmitter } from '../core/typed-emitter.js';
import { AdminProbe } from './admin-probe.js';
import { BrokerUnreachableError } from './errors/broker-unreachable.error.js';
import { TransactionsNotConfiguredError } from './errors/transactions-not-configured.error.js';
import type { KafkaConsumeOptions, KafkaConsumerHandle } from './kafka-consumer.js';
import { validateConsumeOptions } from './kafka-consume-options.validator.js';
import type { KafkaDriver } from './kafka-driver.js';
import type { KafkaPoolEventName, KafkaPoolEvents } from './kafka-events.js';
import { type KafkaMetricsRecorder, NOOP_KAFKA_METRICS } from './kafka-metrics.js';
import type { KafkaPoolOptions, ResolvedKafkaPoolOptions } from './kafka-options.js';
import { collectSecrets, validateKafkaOptions } from './kafka-options.validator.js';
import type {
  KafkaDrainReport,
  KafkaHealth,
  KafkaPoolDeps,
  KafkaPoolState,
  KafkaPoolStats,
} from './kafka-pool.types.js';
import type { KafkaTransaction } from './kafka-transaction.js';
import type {
  KafkaProducerBatch,
  KafkaProducerRecord,
  KafkaRecordMetadata,
} from './kafka-types.js';
import { createKafkajsDriver } from './kafkajs-driver.js';
import { makeScrubber } from './kafkajs-log-bridge.js';
import { ManagedConsumer } from './managed-consumer.js';
import { SharedProducer } from './shared-producer.js';
import { TransactionalProducerPool } from './transactional-producer-pool.js';
import { errorMessage, withDeadline } from '../core/with-deadline.js';
import { withTraceContext } from '../telemetry/index.js';
import { invalidDurationArgument } from '../core/duration-argument.js';
import { describeConnectFailure } from '../core/connect-failure.js';
import { keepAliveUntilSettled } from '../core/keep-process-alive.js';
import { kafkaPermanentFailure } from './kafka-connect-failure.js';

const NO_TRANSACTIONS = Object.freeze({
  max: 0,
  size: 0,
  idle: 0,
  leased: 0,
  creating: 0,
  validating: 0,
  waiting: 0,
  leaks: 0,
});

/**
 * Kafka for an application: ONE shared idempotent producer for `send()`, a bounded pool of
 * transactional producers for `withTransaction()`, managed consumers with graceful stop and a
 * restart policy, and a health ping over one long-lived admin client.
 *
 * Lifecycle: created ─start()─▶ started ─drain()─▶ draining ─▶ drained ─close()─▶ closed.
 * `send()`/`withTransaction()` work from `created` on (they connect lazily). During a drain only
 * calls made from inside a managed consumer's handler are still accepted (so in-flight
 * consume-produce work can finish); every other caller gets `PoolClosedError`.
 */
export class KafkaPool {
  readonly name: string;
  private readonly options: ResolvedKafkaPoolOptions;
  private readonly clock: Clock;
  private readonly logger: MqLogger;
  private readonly metrics: KafkaMetricsRecorder;
  private readonly driver: KafkaDriver;
  private readonly events: TypedEmitter<KafkaPoolEvents>;
  private readonly random: () => number;
  private readonly scrub: (text: string) => string;
  private readonly producer: SharedProducer;
  private readonly probe: AdminProbe;
  private readonly consumers = new Set<ManagedConsumer>();
  private readonly handlerContext = new AsyncLocalStorage<true>();
  private tx: TransactionalProducerPool | undefined;
  private state: KafkaPoolState = 'created';
  private draining: Promise<KafkaDrainReport> | undefined;
  /** True once consumers stopped during a drain: from then on nothing may send. */
  private sealed = false;

  constructor(
    options: KafkaPoolOptions,
    private readonly deps: KafkaPoolDeps = {},
  ) {
    this.options = validateKafkaOptions(options);
    this.name = deps.name ?? 'default';
    this.clock = deps.clock ?? SYSTEM_CLOCK;
    this.logger = withTraceContext(deps.logger ?? NOOP_LOGGER);
    this.metrics = guardRecorder(
      deps.metrics ?? NOOP_KAFKA_METRICS,
      NOOP_KAFKA_METRICS,
      (method, error) =>
        this.logger.error(`Kafka metrics recorder ${method}() threw; ignored`, { error }),
    );
    this.random = deps.random ?? Math.random;
    const secrets = collectSecrets(this.options);
    this.scrub = makeScrubber(secrets);
    this.events = new TypedEmitter<KafkaPoolEvents>(this.logger, `kafka pool "${this.name}"`);
    const o = this.options;
    this.driver = (deps.driver ?? createKafkajsDriver)({
      brokers: o.brokers,
      clientId: o.clientId,
      ssl: o.ssl,
      sasl: o.sasl,
      connectTimeoutMs: o.connectTimeoutMs,
      requestTimeoutMs: o.requestTimeoutMs,
      authenticationTimeoutMs: o.authenticationTimeoutMs,
      retry: o.retry,
      logLevel: o.logLevel,
      logger: this.logger,
      secrets,
    });
    this.producer = new SharedProducer(
      this.driver,
      {
        idempotent: o.idempotent,
        retry: o.retry,
        allowAutoTopicCreation: o.allowAutoTopicCreation,
        sendTimeoutMs: o.sendTimeoutMs,
        reconnect: o.reconnect,
        refusal: (error, kind, message) =>
          kafkaPermanentFailure(error, kind, message, { pool: this.name, brokers: o.brokers }),
      },
      this.clock,
      this.logger,
      this.metrics,
      this.scrub,
      this.random,
      (reason) => this.events.emit('producerReplaced', { transactionalId: null, reason }),
    );
    this.probe = new AdminProbe(this.driver, this.clock, this.logger, this.metrics, this.scrub);
  }

  /**
   * Connects the shared producer (and warms `transactions.minProducers`). Resolves once connected.
   * Rejects at once with a `PermanentConnectError` (`BrokerAuthenticationError`,
   * `BrokerAccessDeniedError`, `BrokerTlsError`) when the brokers refuse in a way no retry fixes,
   * else with `BrokerUnreachableError` after `startTimeoutMs` when no broker answers — the connect
   * loop keeps retrying in the background (with backoff) until `drain()`/`close()`, so `send()`
   * works as soon as a broker is back. The process is held open until this settles.
   */
  start(): Promise<void> {
    return keepAliveUntilSettled(this.connectAtStart());
  }

  private async connectAtStart(): Promise<void> {
    this.assertOpen();
    if (this.state === 'created') this.state = 'started';
    if (this.options.transactions && this.options.transactions.minProducers > 0)
      this.transactions();
    const ms = this.options.startTimeoutMs;
    try {
      await withDeadline(this.producer.connectUnlessRefused(), ms, this.clock, () => {
        const last = this.producer.lastConnectFailure();
        const why =
          last === undefined
            ? 'no broker answered'
            : this.scrub(describeConnectFailure(last).words);
        return new BrokerUnreachableError(
          'start',
          ms,
          `pool "${this.name}" reached none of ${this.options.brokers.join(', ')}: ${why}`,
          last === undefined ? undefined : { cause: last },
        );
      });
    } catch (error) {
      this.logger.warn('Kafka pool could not connect at start; retrying in the background', {
        pool: this.name,
        error: this.scrub(errorMessage(error)),
      });
      throw error;
    }
    this.logger.info('Kafka pool started', {
      pool: this.name,
      driver: this.driver.name,
      brokers: this.options.brokers.length,
    });
  }

  /** Sends on the shared idempotent producer; resolves when acknowledged (acks -1 by default), within `sendTimeoutMs`. */
  send(record: KafkaProducerRecord): Promise<KafkaRecordMetadata[]> {
    if (this.state !== 'created' && this.state !== 'started' && !this.mayWorkWhileDraining()) {
      return Promise.reject(this.closedError());
    }
    return this.producer.send(record);
  }

  /** Several topics in one request, on the shared producer. */
  sendBatch(batch: KafkaProducerBatch): Promise<KafkaRecordMetadata[]> {
    if (this.state !== 'created' && this.state !== 'started' && !this.mayWorkWhileDraining()) {
      return Promise.reject(this.closedError());
    }
    return this.producer.sendBatch(batch);
  }

  /**
   * Runs `fn` in a transaction on a leased transactional producer: committed when `fn` resolves,
   * aborted when it throws (the throw is rethrown). Acquire errors are the core's
   * (`AcquireTimeoutError`, `PoolExhaustedError`, `PoolClosedError`).
   */
  async withTransaction<T>(
    fn: (tx: KafkaTransaction) => Promise<T>,
    opts?: { signal?: AbortSignal; timeoutMs?: number },
  ): Promise<T> {
    if (!this.options.transactions) throw new TransactionsNotConfiguredError();
    if (this.state !== 'created' && this.state !== 'started' && !this.mayWorkWhileDraining())
      throw this.closedError();
    return this.transactions().run(fn, opts);
  }

  /**
   * Starts a managed consumer; resolves with its handle once it joined its group (within
   * `joinTimeoutMs`, else `ConsumerJoinTimeoutError` and nothing is left running: the rejection
   * comes once the half-started client is closed, within `consumer.stopTimeoutMs` more).
   */
  consume(options: KafkaConsumeOptions): Promise<KafkaConsumerHandle> {
    return keepAliveUntilSettled(this.startConsumer(options));
  }

  private async startConsumer(options: KafkaConsumeOptions): Promise<KafkaConsumerHandle> {
    if (this.state !== 'created' && this.state !== 'started') throw this.closedError();
    const resolved = validateConsumeOptions(options, this.options);
    const consumer = new ManagedConsumer(resolved, {
      poolName: this.name,
      driver: this.driver,
      clock: this.clock,
      logger: this.logger,
      metrics: this.metrics,
      events: this.events,
      random: this.random,
      scrub: this.scrub,
      allowAutoTopicCreation: this.options.allowAutoTopicCreation,
      runHandler: (fn) => this.handlerContext.run(true, fn),
      onStopped: (c) => this.consumers.delete(c),
    });
    this.consumers.add(consumer);
    try {
      await consumer.start();
    } catch (error) {
      await consumer.stop();
      throw error;
    }
    return consumer;
  }

  /** From state only (no I/O): down when not started, draining, the producer cannot reach a broker, or a consumer crash-looped. */
  health(): KafkaHealth {
    const producer = this.producer.stats();
    const consumers = [...this.consumers].map((c) => c.stats());
    const tx = this.tx?.stats();
    const ping = this.probe.lastPing();
    const details: KafkaHealth['details'] = {
      pool: this.name,
      state: this.state,
      driver: this.driver.name,
      producer: {
        state: producer.state,
        inFlight: producer.inFlight,
        lastFailure: producer.lastFailure?.kind ?? null,
      },
      consumers: consumers.map((c) => ({
        groupId: c.groupId,
        state: c.state,
        inFlight: c.inFlight,
        crashes: c.crashes,
        restarts: c.restarts,
        rebalances: c.rebalances,
      })),
      transactions: tx
        ? { max: tx.max, size: tx.size, leased: tx.leased, waiting: tx.waiting }
        : null,
      lastPing: ping
        ? {
            ok: ping.ok,
            agoMs: ping.agoMs,
            durationMs: ping.durationMs,
            ...(ping.brokers === undefined ? {} : { brokers: ping.brokers }),
          }
        : null,
    };
    const down = (reason: string): KafkaHealth => ({ healthy: false, reason, details });
    if (this.state === 'created') return down('not started');
    if (this.state !== 'started') return down(this.state);
    if (producer.state !== 'connected') return down(`producer ${producer.state}`);
    const failure = producer.lastFailure;
    // A successful ping after the failed send shows the broker is back even if nothing was sent since.
    const pingedSince = ping?.ok === true && failure !== null && ping.agoMs < failure.agoMs;
    if (
      failure &&
      !pingedSince &&
      (failure.kind === 'connection' || failure.kind === 'timeout' || failure.kind === 'auth')
    ) {
      return {
        ...down(`last send failed (${failure.kind}) ${failure.agoMs}ms ago`),
        pingClears: true,
      };
    }
    const failed = consumers.filter((c) => c.state === 'failed').map((c) => c.groupId);
    if (failed.length > 0) return down(`consumer crash loop: ${failed.join(', ')}`);
    const maxWaiting = this.options.transactions?.maxWaiting ?? 0;
    if (tx && maxWaiting > 0 && tx.waiting >= maxWaiting) return down('transaction pool saturated');
    return { healthy: true, details };
  }

  /** One metadata round trip over the long-lived admin client, bounded by `timeoutMs`; `BrokerUnreachableError` otherwise. */
  ping(timeoutMs: number): Promise<void> {
    const invalid = invalidDurationArgument('timeoutMs', timeoutMs, false, 'ping(2000)');
    if (invalid !== undefined) return Promise.reject(invalid);
    return keepAliveUntilSettled(this.probe.ping(timeoutMs));
  }

  /**
   * Graceful shutdown within `deadlineMs`: readiness down → consumers stop fetching, finish their
   * in-flight handlers, commit and leave → new sends refused → in-flight sends and transactions
   * awaited → producers and the admin client disconnected. Idempotent (returns the same report).
   */
  drain(deadlineMs: number): Promise<KafkaDrainReport> {
    if (this.draining === undefined) {
      const invalid = invalidDurationArgument('deadlineMs', deadlineMs, true, 'drain(10000)');
      if (invalid !== undefined) return Promise.reject(invalid);
    }
    this.draining ??= keepAliveUntilSettled(this.doDrain(deadlineMs));
    return this.draining;
  }

  /** Drains (if not done yet, within `consumer.stopTimeoutMs`) and closes. */
  close(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    return keepAliveUntilSettled(this.closeAfterDrain());
  }

  private async closeAfterDrain(): Promise<void> {
    await this.drain(this.options.consumer.stopTimeoutMs);
    await this.tx?.close();
    this.state = 'closed';
  }

  stats(): KafkaPoolStats {
    const tx = this.tx?.stats() ?? NO_TRANSACTIONS;
    return {
      ...tx,
      draining: this.state === 'draining',
      closed: this.state === 'drained' || this.state === 'closed',
      producer: this.producer.stats(),
      consumers: [...this.consumers].map((c) => c.stats()),
    };
  }

  on<E extends KafkaPoolEventName>(
    event: E,
    listener: (payload: KafkaPoolEvents[E]) => void,
  ): this {
    this.events.on(event, listener);
    return this;
  }

  off<E extends KafkaPoolEventName>(
    event: E,
    listener: (payload: KafkaPoolEvents[E]) => void,
  ): this {
    this.events.off(event, listener);
    return this;
  }

  private async doDrain(deadlineMs: number): Promise<KafkaDrainReport> {
    const start = this.clock.now();
    const remaining = (): number => Math.max(0, deadlineMs - (this.clock.now() - start));
    this.state = 'draining';
    this.logger.info('Kafka pool draining', {
      pool: this.name,
      deadlineMs,
      stats: this.logStats(),
    });

    // 1. Consumers: stop fetching, let handlers finish (they may still send), commit, leave.
    const consumers = await Promise.all([...this.consumers].map((c) => c.stop(remaining())));
    this.sealed = true;
    // 2. Sends already accepted.
    const idle = await this.producer.whenIdle(remaining());
    const sendsInFlightAtDeadline = idle ? 0 : this.producer.inFlightCount;
    // 3. Transactions in progress, then their producers.
    const transactions = this.tx ? await this.tx.drain(remaining()) : null;
    // 4. Disconnects: started even at the deadline, awaited only within it.
    await Promise.all([this.producer.close(remaining()), this.probe.close(remaining())]);

    const durationMs = Math.round(this.clock.now() - start);
    const report: KafkaDrainReport = {
      durationMs,
      timedOut:
        consumers.some((c) => c.timedOut) ||
        !idle ||
        (transactions?.timedOut ?? false) ||
        durationMs > deadlineMs,
      consumers,
      sendsInFlightAtDeadline,
      transactions,
    };
    this.state = 'drained';
    this.logger.info('Kafka pool drained', { pool: this.name, ...report, stats: this.logStats() });
    return report;
  }

  private transactions(): TransactionalProducerPool {
    const t = this.options.transactions;
    if (!t) throw new TransactionsNotConfiguredError();
    this.tx ??= new TransactionalProducerPool(
      this.driver,
      {
        name: `${this.name}:kafka-transactions`,
        transactionalIdPrefix: t.transactionalIdPrefix,
        maxProducers: t.maxProducers,
        minProducers: t.minProducers,
        acquireTimeoutMs: t.acquireTimeoutMs,
        maxWaiting: t.maxWaiting,
        transactionTimeoutMs: t.transactionTimeoutMs,
        idleTimeoutMs: t.idleTimeoutMs,
        sendTimeoutMs: this.options.sendTimeoutMs,
        retry: this.options.retry,
        allowAutoTopicCreation: this.options.allowAutoTopicCreation,
      },
      {
        clock: this.clock,
        logger: this.logger,
        metrics: this.metrics,
        poolMetrics: this.deps.poolMetrics,
        events: this.events,
        random: this.random,
        scrub: this.scrub,
      },
    );
    return this.tx;
  }

  /** During a drain, before consumers are stopped, a managed consumer's handler may still send. */
  private mayWorkWhileDraining(): boolean {
    return this.state === 'draining' && !this.sealed && this.handlerContext.getStore() === true;
  }

  private assertOpen(): void {
    if (this.state !== 'created' && this.state !== 'started') throw this.closedError();
  }

  private closedError(): PoolClosedError {
    return new PoolClosedError(this.name, this.state === 'draining' ? 'draining' : 'closed');
  }

  private logStats(): Record<string, unknown> {
    const s = this.stats();
    return {
      producer: {
        state: s.producer.state,
        inFlight: s.producer.inFlight,
        sent: s.producer.sent,
        failed: s.producer.failed,
      },
      consumers: s.consumers.map((c) => ({
        groupId: c.groupId,
        state: c.state,
        inFlight: c.inFlight,
      })),
      transactions: { size: s.size, leased: s.leased, waiting: s.waiting },
    };
  }
}

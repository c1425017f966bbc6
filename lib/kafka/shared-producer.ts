import { fullJitterBackoff } from '../core/backoff.js';
import type { Clock } from '../core/clock.js';
import { refusalLogLevel, retryLogLevel, type MqLogger } from '../core/logger.js';
import { SendFailedError } from './errors/send-failed.error.js';
import { SendTimeoutError } from './errors/send-timeout.error.js';
import type {
  DriverProducer,
  KafkaDriver,
  KafkaErrorKind,
  KafkaRetryPolicy,
} from './kafka-driver.js';
import type { KafkaMetricsRecorder, KafkaSendFailureReason } from './kafka-metrics.js';
import type {
  KafkaProducerBatch,
  KafkaProducerRecord,
  KafkaRecordMetadata,
} from './kafka-types.js';
import { errorMessage, sleep, withDeadline } from '../core/with-deadline.js';
import type { PermanentConnectError } from '../core/errors/permanent-connect.error.js';
import { keepAliveUntilSettled } from '../core/keep-process-alive.js';
import { activeTracer } from '../telemetry/index.js';
import { kafkajsInstrumented, traceKafkaSend, traceKafkaSendBatch } from './kafka-tracing.js';

/**
 * The ONE producer behind `KafkaPool.send()`. kafkajs producers are safe for concurrent sends, so
 * a pool of plain producers would only split batches; what this class adds is the lifecycle:
 *
 *   idle ──connect()──▶ connecting ──ok──▶ connected ──fatal producer error──▶ connecting (new producer)
 *                          ▲  │fail: backoff, retry until closed                       │
 *                          └──┘                                          close() ──▶ closed (from any)
 *
 * Invariants: at most one connect loop runs; `send()` always has a deadline (`sendTimeoutMs`, which
 * also covers waiting for the connection); every client promise's outcome is observed.
 */

export type SharedProducerState = 'idle' | 'connecting' | 'connected' | 'closed';

export interface SharedProducerConfig {
  idempotent: boolean;
  retry: KafkaRetryPolicy;
  allowAutoTopicCreation: boolean;
  sendTimeoutMs: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  /** The typed error for a connect failure no retry fixes (credentials, TLS), else undefined. */
  refusal(error: unknown, kind: KafkaErrorKind, message: string): PermanentConnectError | undefined;
}

export interface SharedProducerStats {
  state: SharedProducerState;
  inFlight: number;
  sent: number;
  failed: number;
  /** Client-neutral class and age of the last failure not yet followed by a success. */
  lastFailure: { kind: KafkaErrorKind | 'timeout'; message: string; agoMs: number } | null;
}

export class SharedProducer {
  private state: SharedProducerState = 'idle';
  private producer: DriverProducer | undefined;
  private connecting: Promise<DriverProducer> | undefined;
  private readonly closing = new AbortController();
  private inFlight = 0;
  /** Set after a replacement, so the next successful connect counts as a reconnect. */
  private reconnecting = false;
  private lastConnectError: unknown;
  private sent = 0;
  private failed = 0;
  private lastFailure: { kind: KafkaErrorKind | 'timeout'; message: string; at: number } | null =
    null;
  private idleWaiters: (() => void)[] = [];
  /** Callers of connectUnlessRefused(), told of the first refusal no retry fixes. */
  private refusalWaiters: ((error: PermanentConnectError) => void)[] = [];
  private lastRefusal: PermanentConnectError | undefined;

  constructor(
    private readonly driver: KafkaDriver,
    private readonly config: SharedProducerConfig,
    private readonly clock: Clock,
    private readonly logger: MqLogger,
    private readonly metrics: KafkaMetricsRecorder,
    private readonly scrub: (text: string) => string,
    private readonly random: () => number,
    private readonly onReplaced: (reason: string) => void,
  ) {}

  /** Starts the connect loop if needed; resolves once connected (rejects only when closed). */
  connect(): Promise<DriverProducer> {
    if (this.producer) return Promise.resolve(this.producer);
    if (!this.connecting) {
      this.state = 'connecting';
      const loop = this.connectLoop();
      this.connecting = loop;
      // Observed here so a loop ended by close() is never an unhandled rejection.
      loop.catch(() => undefined);
    }
    return this.connecting;
  }

  /**
   * Like connect(), but rejects at once (the loop goes on) when a connect attempt is refused in a
   * way no retry fixes: wrong credentials, a certificate that does not verify.
   */
  connectUnlessRefused(): Promise<DriverProducer> {
    const connected = this.connect();
    if (this.producer) return connected;
    return new Promise<DriverProducer>((resolve, reject) => {
      if (this.lastRefusal) return reject(this.lastRefusal);
      this.refusalWaiters.push(reject);
      connected.then(resolve, reject);
    });
  }

  /** The error of the last failed connect attempt (undefined after a success). */
  lastConnectFailure(): unknown {
    return this.lastConnectError;
  }

  send(record: KafkaProducerRecord): Promise<KafkaRecordMetadata[]> {
    const tracer = activeTracer();
    if (tracer === undefined) return this.sendRecord(record);
    return traceKafkaSend(tracer, this.traceOptions(), record, (r) => this.sendRecord(r));
  }

  sendBatch(batch: KafkaProducerBatch): Promise<KafkaRecordMetadata[]> {
    const tracer = activeTracer();
    if (tracer === undefined) return this.sendBatchRecords(batch);
    return traceKafkaSendBatch(tracer, this.traceOptions(), batch, (b) => this.sendBatchRecords(b));
  }

  private traceOptions(): { instrumented: boolean } {
    return { instrumented: kafkajsInstrumented(this.driver.name) };
  }

  private sendRecord(record: KafkaProducerRecord): Promise<KafkaRecordMetadata[]> {
    const p = this.producer;
    // Hot path: connected, no awaits of our own before the client call.
    if (p)
      return this.sendOn(
        p,
        record.topic,
        (prod) => prod.send(record),
        this.clock.now(),
        this.config.sendTimeoutMs,
      );
    return this.sendAfterConnect(record.topic, (prod) => prod.send(record));
  }

  private sendBatchRecords(batch: KafkaProducerBatch): Promise<KafkaRecordMetadata[]> {
    const topic = batch.topicMessages.map((t) => t.topic).join(',');
    const p = this.producer;
    if (p)
      return this.sendOn(
        p,
        topic,
        (prod) => prod.sendBatch(batch),
        this.clock.now(),
        this.config.sendTimeoutMs,
      );
    return this.sendAfterConnect(topic, (prod) => prod.sendBatch(batch));
  }

  stats(): SharedProducerStats {
    const f = this.lastFailure;
    return {
      state: this.state,
      inFlight: this.inFlight,
      sent: this.sent,
      failed: this.failed,
      lastFailure: f
        ? { kind: f.kind, message: f.message, agoMs: Math.round(this.clock.now() - f.at) }
        : null,
    };
  }

  get currentState(): SharedProducerState {
    return this.state;
  }

  get inFlightCount(): number {
    return this.inFlight;
  }

  /** Resolves when no send is in flight, or after `ms` (then false). */
  whenIdle(ms: number): Promise<boolean> {
    if (this.inFlight === 0) return Promise.resolve(true);
    let waiter: (() => void) | undefined;
    const idle = new Promise<boolean>((resolve) => {
      waiter = () => resolve(true);
      this.idleWaiters.push(waiter);
    });
    return withDeadline(idle, ms, this.clock, () => new Error('idle wait timed out')).catch(() => {
      this.idleWaiters = this.idleWaiters.filter((w) => w !== waiter);
      return false;
    });
  }

  /** Stops the connect loop and disconnects, bounded by `ms`. In-flight sends are not awaited here (see `whenIdle`). */
  async close(ms: number): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closing.abort();
    const p = this.producer;
    this.producer = undefined;
    if (p) await this.disconnectQuietly(p, ms);
  }

  /** A send that waits for the connection: off the hot path, so it holds the process open while it waits. */
  private sendAfterConnect(
    topic: string,
    call: (p: DriverProducer) => Promise<KafkaRecordMetadata[]>,
  ): Promise<KafkaRecordMetadata[]> {
    return keepAliveUntilSettled(this.connectThenSend(topic, call));
  }

  private async connectThenSend(
    topic: string,
    call: (p: DriverProducer) => Promise<KafkaRecordMetadata[]>,
  ): Promise<KafkaRecordMetadata[]> {
    const start = this.clock.now();
    const timeoutMs = this.config.sendTimeoutMs;
    let p: DriverProducer;
    try {
      p = await withDeadline(
        this.connect(),
        timeoutMs,
        this.clock,
        () =>
          // The last connect failure says why: broker down, auth failed, wrong address.
          new SendTimeoutError(
            topic,
            timeoutMs,
            this.lastConnectError ? { cause: this.lastConnectError } : undefined,
          ),
      );
    } catch (error) {
      throw this.failure(error, topic, start);
    }
    return this.sendOn(p, topic, call, start, timeoutMs - (this.clock.now() - start));
  }

  private sendOn(
    p: DriverProducer,
    topic: string,
    call: (p: DriverProducer) => Promise<KafkaRecordMetadata[]>,
    start: number,
    remainingMs: number,
  ): Promise<KafkaRecordMetadata[]> {
    this.inFlight++;
    const timeoutMs = this.config.sendTimeoutMs;
    let work: Promise<KafkaRecordMetadata[]>;
    try {
      work = call(p);
    } catch (error) {
      work = Promise.reject(error);
    }
    return withDeadline(
      work,
      remainingMs,
      this.clock,
      () => new SendTimeoutError(topic, timeoutMs),
    ).then(
      (metadata) => {
        this.settled();
        this.sent++;
        this.lastFailure = null;
        this.metrics.sendSucceeded((this.clock.now() - start) / 1000);
        return metadata;
      },
      (error: unknown) => {
        this.settled();
        const failure = this.failure(error, topic, start);
        const kind = failure instanceof SendFailedError ? failure.reason : 'timeout';
        if (p === this.producer && mustReplace(kind, this.config.idempotent))
          this.replace(p, `${kind}: ${failure.message}`);
        throw failure;
      },
    );
  }

  private settled(): void {
    this.inFlight--;
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Turns any failure into a typed error and records it. */
  private failure(error: unknown, topic: string, start: number): Error {
    this.failed++;
    const seconds = (this.clock.now() - start) / 1000;
    if (error instanceof SendTimeoutError) {
      this.lastFailure = { kind: 'timeout', message: error.message, at: this.clock.now() };
      this.metrics.sendFailed('timeout', seconds);
      return error;
    }
    const kind = this.driver.classifyError(error);
    const message = this.scrub(errorMessage(error));
    this.lastFailure = { kind, message, at: this.clock.now() };
    this.metrics.sendFailed(toReason(kind), seconds);
    return new SendFailedError(topic, kind, message, { cause: error });
  }

  /** A producer that must not send again (see mustReplace): start a fresh one, with a new producer id. */
  private replace(old: DriverProducer, reason: string): void {
    if (this.state === 'closed') return;
    this.logger.warn('Kafka shared producer replaced (new producer id)', { reason });
    this.producer = undefined;
    this.connecting = undefined;
    void this.disconnectQuietly(old, this.config.sendTimeoutMs);
    this.onReplaced(reason);
    this.reconnecting = true;
    void this.connect();
  }

  private async connectLoop(): Promise<DriverProducer> {
    for (let attempt = 0; ; attempt++) {
      if (this.closing.signal.aborted) throw new Error('Kafka shared producer closed');
      const p = this.driver.producer({
        idempotent: this.config.idempotent,
        retry: this.config.retry,
        allowAutoTopicCreation: this.config.allowAutoTopicCreation,
      });
      try {
        await p.connect();
        if (this.closing.signal.aborted) {
          void this.disconnectQuietly(p, this.config.sendTimeoutMs);
          throw new Error('Kafka shared producer closed');
        }
        this.producer = p;
        this.connecting = undefined;
        this.state = 'connected';
        this.lastConnectError = undefined;
        this.lastRefusal = undefined;
        this.refusalWaiters = [];
        if (attempt > 0 || this.reconnecting) {
          this.logger.info('Kafka shared producer connected', { attempts: attempt + 1 });
          this.metrics.reconnected('producer');
        }
        this.reconnecting = false;
        return p;
      } catch (error) {
        if (this.closing.signal.aborted) throw error;
        this.lastConnectError = error;
        void this.disconnectQuietly(p, this.config.sendTimeoutMs);
        const message = this.scrub(errorMessage(error));
        const kind = this.driver.classifyError(error);
        const refused = this.config.refusal(error, kind, message);
        this.lastRefusal = refused;
        // A refusal no retry fixes is retried at the slow end only, never in a hot loop.
        const delayMs = refused
          ? this.config.reconnect.maxDelayMs
          : fullJitterBackoff(attempt + 1, this.config.reconnect, this.random);
        this.lastFailure = { kind, message, at: this.clock.now() };
        this.logger[refused ? refusalLogLevel(attempt + 1) : retryLogLevel(attempt + 1)](
          refused
            ? 'Kafka refused the shared producer; a retry cannot succeed until the configuration or the broker changes'
            : 'Kafka shared producer could not connect; retrying',
          {
            attempt: attempt + 1,
            delayMs,
            error: refused ? this.scrub(refused.message) : message,
          },
        );
        if (refused) for (const reject of this.refusalWaiters.splice(0)) reject(refused);
        await sleep(delayMs, this.clock, this.closing.signal);
      }
    }
  }

  private async disconnectQuietly(p: DriverProducer, ms: number): Promise<void> {
    try {
      await withDeadline(
        p.disconnect(),
        ms,
        this.clock,
        () => new Error(`disconnect took over ${ms}ms`),
      );
    } catch (error) {
      this.logger.debug('Kafka producer disconnect failed', {
        error: this.scrub(errorMessage(error)),
      });
    }
  }
}

/**
 * Whether a producer must not send again after a failed send of this kind:
 * - fenced / producer-state: the broker no longer accepts its id or sequence;
 * - for an idempotent producer, any failure that leaves it unknown whether the broker wrote the
 *   batch (connection lost or timed out mid-request, or an unclassified error): kafkajs rolls the
 *   partition's sequence number back on such a failure, so the next, different batch reuses the
 *   sequence of one the broker may have written — and the broker acks it as that batch's duplicate
 *   without writing it. Measured: one acknowledged record missing from the topic in about one of
 *   four broker kill -9 runs (test/reliability/kafka-restart.spec.ts). A new producer id (fresh
 *   sequences) makes that impossible. Definite refusals (rejected, auth) wrote nothing.
 */
function mustReplace(kind: KafkaErrorKind | 'timeout', idempotent: boolean): boolean {
  if (kind === 'fenced' || kind === 'producer-state') return true;
  return idempotent && (kind === 'connection' || kind === 'timeout' || kind === 'unknown');
}

function toReason(kind: KafkaErrorKind): KafkaSendFailureReason {
  return kind === 'producer-state' ? 'unknown' : kind;
}

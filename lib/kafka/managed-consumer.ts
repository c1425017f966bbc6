import type { Clock, TimerHandle } from '../core/clock.js';
import { PoolClosedError } from '../core/errors/pool-closed.error.js';
import type { MqLogger } from '../core/logger.js';
import type { TypedEmitter } from '../core/typed-emitter.js';
import { ConsumerRestartPolicy } from './consumer-restart-policy.js';
import { ConsumerFailedError } from './errors/consumer-failed.error.js';
import { ConsumerJoinTimeoutError } from './errors/consumer-join-timeout.error.js';
import type { DriverConsumer, DriverConsumerRunConfig, KafkaDriver } from './kafka-driver.js';
import type { ResolvedConsumeOptions } from './kafka-consume-options.validator.js';
import type {
  KafkaConsumerHandle,
  KafkaConsumerState,
  KafkaConsumerStats,
  KafkaConsumerStopReport,
} from './kafka-consumer.js';
import type { KafkaPoolEvents } from './kafka-events.js';
import type { KafkaMetricsRecorder } from './kafka-metrics.js';
import type { KafkaEachBatchPayload, KafkaEachMessagePayload } from './kafka-types.js';
import { errorMessage, withDeadline } from '../core/with-deadline.js';
import { activeTracer } from '../telemetry/index.js';
import {
  ConsumeTraceState,
  kafkajsInstrumented,
  traceEachBatch,
  traceEachMessage,
} from './kafka-tracing.js';

export interface ManagedConsumerContext {
  poolName: string;
  driver: KafkaDriver;
  clock: Clock;
  logger: MqLogger;
  metrics: KafkaMetricsRecorder;
  events: TypedEmitter<KafkaPoolEvents>;
  random: () => number;
  scrub: (text: string) => string;
  allowAutoTopicCreation: boolean;
  /** Runs a handler call inside the pool's "consumer handler" context (sends stay allowed during drain). */
  runHandler<T>(fn: () => Promise<T>): Promise<T>;
  /** Called as a stop begins, before the client is asked to finish its handlers (they may be waiting). */
  onStopping?(): void;
  onStopped(consumer: ManagedConsumer): void;
}

/**
 * One consumer group member with a lifecycle the pool controls (states in `KafkaConsumerState`).
 * Each (re)start uses a fresh client consumer tagged with a generation number: events of an older
 * generation (a late crash of a consumer already replaced or stopped) are ignored.
 */
export class ManagedConsumer implements KafkaConsumerHandle {
  readonly groupId: string;
  private currentState: KafkaConsumerState = 'starting';
  private generation = 0;
  private current: DriverConsumer | undefined;
  /** The connect → subscribe → run steps of the current generation, while they run (never rejects). */
  private starting: Promise<void> | undefined;
  private readonly disconnects = new WeakMap<DriverConsumer, Promise<void>>();
  private restartTimer: TimerHandle | undefined;
  private joinTimer: TimerHandle | undefined;
  private readonly policy: ConsumerRestartPolicy;
  private stopping: Promise<KafkaConsumerStopReport> | undefined;
  private joined = false;
  private settleJoin: { resolve: () => void; reject: (e: Error) => void } | undefined;
  private inFlight = 0;
  private processed = 0;
  private failed = 0;
  private crashes = 0;
  private restarts = 0;
  private rebalances = 0;
  private joins = 0;
  private lastError: unknown;
  private tracing: ConsumeTraceState | undefined;

  constructor(
    private readonly options: ResolvedConsumeOptions,
    private readonly ctx: ManagedConsumerContext,
  ) {
    this.groupId = options.groupId;
    this.policy = new ConsumerRestartPolicy(options.restart, ctx.clock, ctx.random);
  }

  get state(): KafkaConsumerState {
    return this.currentState;
  }

  /** Starts consuming; resolves at the first group join. On rejection nothing is left running. */
  start(): Promise<void> {
    const joined = new Promise<void>((resolve, reject) => {
      this.settleJoin = { resolve, reject };
    });
    this.joinTimer = this.ctx.clock.setTimeout(
      () => this.onJoinTimeout(),
      this.options.joinTimeoutMs,
    );
    this.launch();
    return joined;
  }

  stats(): KafkaConsumerStats {
    return {
      groupId: this.groupId,
      state: this.currentState,
      inFlight: this.inFlight,
      processed: this.processed,
      failed: this.failed,
      crashes: this.crashes,
      restarts: this.restarts,
      rebalances: this.rebalances,
      joins: this.joins,
      lastError: this.lastError === undefined ? null : this.ctx.scrub(errorMessage(this.lastError)),
    };
  }

  stop(deadlineMs: number = this.options.stopTimeoutMs): Promise<KafkaConsumerStopReport> {
    this.stopping ??= this.doStop(deadlineMs);
    return this.stopping;
  }

  private launch(): void {
    const gen = ++this.generation;
    this.currentState = 'starting';
    const o = this.options;
    const consumer = this.ctx.driver.consumer(
      {
        groupId: o.groupId,
        sessionTimeoutMs: o.sessionTimeoutMs,
        rebalanceTimeoutMs: o.rebalanceTimeoutMs,
        heartbeatIntervalMs: o.heartbeatIntervalMs,
        readUncommitted: o.readUncommitted,
        retry: o.retry,
        allowAutoTopicCreation: this.ctx.allowAutoTopicCreation,
        ...(o.maxBytesPerPartition === undefined
          ? {}
          : { maxBytesPerPartition: o.maxBytesPerPartition }),
        ...(o.maxWaitTimeMs === undefined ? {} : { maxWaitTimeMs: o.maxWaitTimeMs }),
      },
      {
        onCrash: (error) => this.onCrash(gen, error),
        onRebalancing: () => this.onRebalancing(gen),
        onGroupJoin: (info) => this.onGroupJoin(gen, info),
      },
    );
    this.current = consumer;
    const starting: Promise<void> = this.startSteps(gen, consumer).finally(() => {
      if (this.starting === starting) this.starting = undefined;
    });
    this.starting = starting;
  }

  private async startSteps(gen: number, consumer: DriverConsumer): Promise<void> {
    const o = this.options;
    try {
      await consumer.connect();
      if (gen !== this.generation) return await this.discard(consumer);
      await consumer.subscribe({ topics: o.topics, fromBeginning: o.fromBeginning });
      if (gen !== this.generation) return await this.discard(consumer);
      await consumer.run(this.runConfig());
      if (gen !== this.generation) return await this.discard(consumer);
    } catch (error) {
      // connect/subscribe failures do not go through the client's crash path: same policy here.
      if (gen !== this.generation) return await this.discard(consumer);
      this.onCrash(gen, error instanceof Error ? error : new Error(String(error)));
      // Part of the start steps, so a stop arriving meanwhile waits for the connection to close.
      await this.discard(consumer);
    }
  }

  /**
   * Disconnects a client consumer whose generation was superseded (stopped) while one of its start
   * steps was in flight: a disconnect issued during `connect()` does not prevent the connection that
   * completes afterwards, so the step's own completion is where it gets closed.
   */
  private async discard(consumer: DriverConsumer): Promise<void> {
    await this.disconnect(consumer).catch(() => undefined);
  }

  /** One disconnect per client consumer, shared by `discard` and `doStop`. */
  private disconnect(consumer: DriverConsumer): Promise<void> {
    let disconnected = this.disconnects.get(consumer);
    if (!disconnected) {
      disconnected = consumer.disconnect();
      this.disconnects.set(consumer, disconnected);
    }
    return disconnected;
  }

  private runConfig(): DriverConsumerRunConfig {
    const o = this.options;
    const config: DriverConsumerRunConfig = {
      autoCommit: o.autoCommit,
      partitionsConsumedConcurrently: o.partitionsConsumedConcurrently,
      eachBatchAutoResolve: o.eachBatchAutoResolve,
      ...(o.autoCommitIntervalMs === undefined
        ? {}
        : { autoCommitIntervalMs: o.autoCommitIntervalMs }),
      ...(o.autoCommitThreshold === undefined
        ? {}
        : { autoCommitThreshold: o.autoCommitThreshold }),
    };
    const eachMessage = o.eachMessage;
    const eachBatch = o.eachBatch;
    // Decided per call: tracing follows the app registering (or disabling) an SDK at any time.
    if (eachMessage)
      config.eachMessage = (payload: KafkaEachMessagePayload) => {
        const tracer = activeTracer();
        if (tracer === undefined) return this.track(() => eachMessage(payload));
        return this.track(() => traceEachMessage(tracer, this.traceState(), payload, eachMessage));
      };
    else if (eachBatch)
      config.eachBatch = (payload: KafkaEachBatchPayload) => {
        const tracer = activeTracer();
        if (tracer === undefined) return this.track(() => eachBatch(payload));
        return this.track(() => traceEachBatch(tracer, this.traceState(), payload, eachBatch));
      };
    return config;
  }

  private traceState(): ConsumeTraceState {
    this.tracing ??= new ConsumeTraceState(this.groupId, kafkajsInstrumented(this.ctx.driver.name));
    return this.tracing;
  }

  /** Counts in-flight handler calls and outcomes; the error is rethrown so the client does not commit. */
  private async track(call: () => Promise<void>): Promise<void> {
    this.inFlight++;
    try {
      await this.ctx.runHandler(call);
      this.processed++;
      this.ctx.metrics.consumed(this.groupId, 'success');
    } catch (error) {
      this.failed++;
      this.lastError = error;
      this.ctx.metrics.consumed(this.groupId, 'error');
      throw error;
    } finally {
      this.inFlight--;
    }
  }

  private onGroupJoin(
    gen: number,
    info: { memberId: string; assignment: Record<string, number[]> },
  ): void {
    if (gen !== this.generation || this.isEnding()) return;
    this.joins++;
    this.currentState = 'running';
    this.policy.onJoined();
    if (!this.joined) {
      this.joined = true;
      this.clearJoinTimer();
      this.settleJoin?.resolve();
    }
    this.ctx.events.emit('consumerJoin', {
      groupId: this.groupId,
      memberId: info.memberId,
      assignment: info.assignment,
    });
  }

  private onRebalancing(gen: number): void {
    if (gen !== this.generation) return;
    this.rebalances++;
    this.ctx.metrics.consumerRebalanced(this.groupId);
    this.ctx.events.emit('consumerRebalance', { groupId: this.groupId });
  }

  private onCrash(gen: number, error: Error): void {
    if (gen !== this.generation || this.isEnding()) return;
    this.crashes++;
    this.lastError = error;
    this.current = undefined;
    this.ctx.metrics.consumerCrashed(this.groupId);
    const message = this.ctx.scrub(errorMessage(error));
    const kind = this.ctx.driver.classifyError(error);
    const decision = this.policy.onCrash(
      kind === 'connection' || kind === 'timeout' ? 'outage' : 'consumer',
    );
    if (!decision.restart) {
      this.currentState = 'failed';
      this.clearJoinTimer();
      const failure = new ConsumerFailedError(
        this.groupId,
        decision.restartsInWindow,
        this.options.restart.windowMs,
        {
          cause: error,
        },
      );
      this.ctx.logger.error('Kafka consumer crashed too often; giving up (readiness down)', {
        groupId: this.groupId,
        restartsInWindow: decision.restartsInWindow,
        error: message,
      });
      this.ctx.events.emit('consumerFailed', { groupId: this.groupId, error: failure });
      this.settleJoin?.reject(failure);
      return;
    }
    this.currentState = 'restarting';
    this.ctx.logger.warn('Kafka consumer crashed; restarting', {
      groupId: this.groupId,
      restartInMs: decision.delayMs,
      restartsInWindow: decision.restartsInWindow,
      error: message,
    });
    this.ctx.events.emit('consumerCrash', {
      groupId: this.groupId,
      error,
      restartInMs: decision.delayMs,
      restartsInWindow: decision.restartsInWindow,
    });
    this.restartTimer = this.ctx.clock.setTimeout(() => {
      this.restartTimer = undefined;
      if (this.currentState !== 'restarting') return;
      this.restarts++;
      this.ctx.metrics.reconnected('consumer');
      this.launch();
    }, decision.delayMs);
  }

  private onJoinTimeout(): void {
    this.joinTimer = undefined;
    if (this.joined || this.isEnding()) return;
    const error = new ConsumerJoinTimeoutError(
      this.groupId,
      this.options.joinTimeoutMs,
      this.lastError === undefined ? undefined : { cause: this.lastError },
    );
    this.settleJoin?.reject(error);
    void this.stop();
  }

  private async doStop(deadlineMs: number): Promise<KafkaConsumerStopReport> {
    const start = this.ctx.clock.now();
    this.currentState = 'stopping';
    this.ctx.onStopping?.();
    this.generation++; // late events of the running client consumer are ignored from now on
    this.clearJoinTimer();
    if (this.restartTimer) this.ctx.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    // A stop before the first join comes from drain/close: consume() must not hang.
    if (!this.joined) this.settleJoin?.reject(new PoolClosedError(this.ctx.poolName, 'draining'));

    const consumer = this.current;
    this.current = undefined;
    // Start steps still in flight end in `discard` (the generation moved on), which disconnects
    // once the step settled: a disconnect issued meanwhile would not stop a connect from opening
    // its connection, nor a run() from joining and fetching with a runner the disconnect missed.
    // Awaited within the same deadline, so the client is closed when the stop reports done.
    const starting = this.starting;
    this.starting = undefined;
    let timedOut = false;
    if (consumer || starting) {
      const work = (async () => {
        await starting; // never rejects
        if (consumer) await this.disconnect(consumer);
      })();
      const timeout = new Error('stop deadline');
      try {
        // The client's disconnect is the graceful path: stop fetching, wait for handlers, commit, leave.
        await withDeadline(work, deadlineMs, this.ctx.clock, () => timeout);
      } catch (error) {
        if (error === timeout) timedOut = true;
        else
          this.ctx.logger.warn('Kafka consumer stop failed', {
            groupId: this.groupId,
            error: this.ctx.scrub(errorMessage(error)),
          });
      }
    }
    const report: KafkaConsumerStopReport = {
      groupId: this.groupId,
      durationMs: Math.round(this.ctx.clock.now() - start),
      timedOut,
      inFlightAtDeadline: timedOut ? this.inFlight : 0,
    };
    this.currentState = 'stopped';
    if (timedOut) {
      this.ctx.logger.warn('Kafka consumer did not stop within its deadline', { ...report });
    }
    this.ctx.onStopped(this);
    return report;
  }

  private isEnding(): boolean {
    return (
      this.currentState === 'stopping' ||
      this.currentState === 'stopped' ||
      this.currentState === 'failed'
    );
  }

  private clearJoinTimer(): void {
    if (this.joinTimer) this.ctx.clock.clearTimeout(this.joinTimer);
    this.joinTimer = undefined;
  }
}

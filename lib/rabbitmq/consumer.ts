import type { Channel, ConsumeMessage } from 'amqplib';
import { fullJitterBackoff } from '../core/backoff.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import type { MqLogger } from '../core/logger.js';
import type { ConnectionSet } from './connection-set.js';
import type { ConnectionSlot } from './connection-slot.js';
import type {
  ConsumeHandler,
  ConsumeOptions,
  ConsumerHandle,
  RequeuePolicy,
} from './consumer-options.js';
import { ConnectionUnavailableError } from './errors/connection-unavailable.error.js';
import { StaleDeliveryError } from './errors/stale-delivery.error.js';
import type { RabbitMqMetricsRecorder } from './rabbitmq-metrics.js';
import { errorMessage, withDeadline } from '../core/with-deadline.js';
import { activeTracer, isInstrumented } from '../telemetry/index.js';
import { ConsumeTrace, type Settlement } from './consume-trace.js';

export interface ConsumerDeps {
  connections: ConnectionSet;
  clock: Clock;
  logger: MqLogger;
  metrics: RabbitMqMetricsRecorder;
  random: () => number;
  backoff: { initialDelayMs: number; maxDelayMs: number };
  defaultTimeoutMs: number;
  onStaleDelivery(error: StaleDeliveryError): void;
  /** Called once when the consumer is cancelled for good. */
  onGone(consumer: Consumer): void;
  /**
   * Runs on every new channel before it subscribes (first attach and each re-attach), e.g. to
   * declare the queue. Its error fails the attach as is (a TopologyMismatchError stays one).
   */
  prepare?(channel: Channel): Promise<void>;
}

/** One subscription on one channel. Deliveries carry it, so their ack goes where they came from or nowhere. */
interface Binding {
  readonly ch: Channel;
  readonly generation: number;
  alive: boolean;
  consumerTag: string | undefined;
  closeReason: Error | undefined;
  /** `consume` wrapped by an OpenTelemetry instrumentation: deliveries arrive inside its span. */
  readonly instrumented: boolean;
}

const DEFAULT_PREFETCH = 20;

/**
 * A consumer on a dedicated channel of a consumer connection (never from the lease pool).
 *
 * States: attaching -> active -> detached (channel or connection lost) -> attaching -> … ;
 * stopping (basic.cancel sent, handlers finishing) -> cancelled (terminal, never re-attached).
 *
 * Invariant: an ack/nack is sent only on the channel (Binding) the delivery came from, and only while
 * that channel is alive; otherwise it is dropped and reported as a stale delivery. A new channel never
 * sees a delivery tag of an old one, which would close it with 406 PRECONDITION_FAILED.
 */
export class Consumer implements ConsumerHandle {
  state: 'attaching' | 'active' | 'detached' | 'stopping' | 'cancelled' = 'attaching';
  generation = 0;
  inFlight = 0;
  staleDeliveries = 0;
  private binding: Binding | undefined;
  private failures = 0;
  private timer: TimerHandle | undefined;
  private idleWaiters: Array<() => void> = [];
  private cancelling: Promise<void> | undefined;
  private readonly prefetch: number;
  private readonly onConnectionUp = (slot: ConnectionSlot): void => {
    if (
      this.state === 'detached' &&
      this.timer === undefined &&
      this.deps.connections.consumers.includes(slot)
    ) {
      void this.attach();
    }
  };

  constructor(
    readonly queue: string,
    private readonly handler: ConsumeHandler,
    private readonly options: ConsumeOptions,
    private readonly deps: ConsumerDeps,
  ) {
    this.prefetch = options.prefetch ?? DEFAULT_PREFETCH;
    deps.connections.events.on('up', this.onConnectionUp);
  }

  get consumerTag(): string | undefined {
    return this.binding?.consumerTag;
  }

  get active(): boolean {
    return this.state === 'active';
  }

  get channel(): Channel | undefined {
    return this.binding?.alive ? this.binding.ch : undefined;
  }

  /**
   * First attach, bounded by `timeoutMs`. Rejects (and leaves nothing behind) on a broker refusal such as
   * 404 for a missing queue, or when no consumer connection comes up in time (cause: the connect error).
   */
  async start(): Promise<void> {
    const { clock, connections } = this.deps;
    const timeoutMs = this.options.timeoutMs ?? this.deps.defaultTimeoutMs;
    const deadline = clock.now() + timeoutMs;
    try {
      while (!connections.pickConsumerSlot()) {
        const left = deadline - clock.now();
        if (left <= 0) {
          throw new ConnectionUnavailableError(
            `no consumer connection came up within ${timeoutMs}ms to consume from "${this.queue}"`,
            connections.lastError(),
          );
        }
        await new Promise<void>((resolve) => {
          const t = clock.setTimeout(done, left);
          t.unref?.();
          const unsubscribe = connections.onNextChange(done);
          function done(): void {
            clock.clearTimeout(t);
            unsubscribe();
            resolve();
          }
        });
      }
      await this.attachOnce();
    } catch (error) {
      this.finish();
      throw error;
    }
  }

  /** basic.cancel: no new deliveries. Running handlers go on and still ack. */
  async stopDeliveries(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'cancelled') return;
    this.state = 'stopping';
    this.clearTimer();
    this.deps.connections.events.off('up', this.onConnectionUp);
    const b = this.binding;
    if (b?.alive && b.consumerTag !== undefined) {
      try {
        await withDeadline(
          b.ch.cancel(b.consumerTag),
          this.deps.defaultTimeoutMs,
          this.deps.clock,
          () => new Error(`basic.cancel timed out after ${this.deps.defaultTimeoutMs}ms`),
        );
      } catch (error) {
        this.deps.logger.debug(
          'basic.cancel failed; closing the channel returns the messages anyway',
          {
            queue: this.queue,
            error: errorMessage(error),
          },
        );
      }
    }
  }

  /** Resolves when no handler runs, or at `deadlineAt` (clock time). Returns handlers still running. */
  async whenIdle(deadlineAt: number): Promise<number> {
    while (this.inFlight > 0 && this.deps.clock.now() < deadlineAt) {
      await new Promise<void>((resolve) => {
        const t = this.deps.clock.setTimeout(
          resolve,
          Math.max(1, deadlineAt - this.deps.clock.now()),
        );
        t.unref?.();
        this.idleWaiters.push(() => {
          this.deps.clock.clearTimeout(t);
          resolve();
        });
      });
    }
    return this.inFlight;
  }

  /** Closes the channel: unacked deliveries go back to the queue. Terminal. */
  async closeChannel(): Promise<void> {
    const b = this.binding;
    this.finish();
    if (b?.alive) {
      b.alive = false;
      await withDeadline(
        b.ch.close(),
        this.deps.defaultTimeoutMs,
        this.deps.clock,
        () => new Error(`channel.close timed out after ${this.deps.defaultTimeoutMs}ms`),
      ).catch(() => undefined);
    }
  }

  cancel(opts?: { timeoutMs?: number }): Promise<void> {
    this.cancelling ??= (async () => {
      await this.stopDeliveries();
      await this.whenIdle(this.deps.clock.now() + (opts?.timeoutMs ?? 10_000));
      await this.closeChannel();
    })();
    return this.cancelling;
  }

  private finish(): void {
    if (this.state === 'cancelled') return;
    this.state = 'cancelled';
    this.clearTimer();
    this.deps.connections.events.off('up', this.onConnectionUp);
    this.deps.onGone(this);
  }

  private async attach(): Promise<void> {
    if (this.state !== 'detached') return;
    try {
      await this.attachOnce();
      this.failures = 0;
    } catch (error) {
      const state = this.state as Consumer['state'];
      if (state === 'stopping' || state === 'cancelled') return;
      this.failures++;
      this.deps.logger.warn('consumer re-attach failed; retrying', {
        queue: this.queue,
        attempt: this.failures,
        error: errorMessage(error),
      });
      this.state = 'detached';
      this.scheduleReattach();
    }
  }

  private async attachOnce(): Promise<void> {
    const slot = this.deps.connections.pickConsumerSlot();
    const model = slot?.model;
    if (!model)
      throw new ConnectionUnavailableError(
        'no consumer connection is up',
        this.deps.connections.lastError(),
      );
    this.state = 'attaching';
    const ch = await model.createChannel();
    const b: Binding = {
      ch,
      generation: ++this.generation,
      alive: true,
      consumerTag: undefined,
      closeReason: undefined,
      instrumented: isInstrumented(ch.consume),
    };
    ch.on('error', (error: Error) => {
      b.closeReason = error;
      this.deps.logger.warn('consumer channel closed by the broker', {
        queue: this.queue,
        error: errorMessage(error),
      });
    });
    ch.on('close', () => this.channelClosed(b));
    ch.on('handler-error', (error: Error, event: string) => {
      this.deps.logger.error('consumer channel listener threw', {
        queue: this.queue,
        event,
        error: errorMessage(error),
      });
    });
    let preparing = false;
    try {
      await ch.prefetch(this.prefetch);
      if (this.deps.prepare !== undefined) {
        preparing = true;
        await this.deps.prepare(ch);
        preparing = false;
      }
      const { consumerTag } = await ch.consume(this.queue, (msg) => this.deliver(b, msg), {
        noAck: false,
        ...(this.options.exclusive === undefined ? {} : { exclusive: this.options.exclusive }),
        ...(this.options.priority === undefined ? {} : { priority: this.options.priority }),
        ...(this.options.arguments === undefined ? {} : { arguments: this.options.arguments }),
      });
      b.consumerTag = consumerTag;
    } catch (error) {
      b.alive = false;
      ch.close().catch(() => undefined);
      throw preparing ? error : (b.closeReason ?? error);
    }
    if (!b.alive) throw b.closeReason ?? new Error('consumer channel closed during attach');
    // cancel() may have run while we were attaching.
    if ((this.state as Consumer['state']) !== 'attaching') {
      b.alive = false;
      await ch.close().catch(() => undefined);
      return;
    }
    this.binding = b;
    this.state = 'active';
    this.deps.logger.info('consumer attached', { queue: this.queue, generation: b.generation });
  }

  private channelClosed(b: Binding): void {
    b.alive = false;
    if (this.binding !== b) return;
    if (this.state !== 'active') return;
    this.state = 'detached';
    this.deps.logger.warn('consumer detached; re-attaching', {
      queue: this.queue,
      inFlight: this.inFlight,
      reason: b.closeReason ? errorMessage(b.closeReason) : 'connection lost',
    });
    this.scheduleReattach();
  }

  private scheduleReattach(): void {
    if (this.state !== 'detached' || this.timer !== undefined) return;
    // No consumer connection: the 'up' listener re-attaches as soon as one is back.
    if (!this.deps.connections.pickConsumerSlot()) return;
    const delay =
      this.failures === 0
        ? 1
        : fullJitterBackoff(this.failures, this.deps.backoff, this.deps.random);
    this.timer = this.deps.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.deps.connections.pickConsumerSlot()) void this.attach();
    }, delay);
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private deliver(b: Binding, msg: ConsumeMessage | null): void {
    if (msg === null) {
      // The broker cancelled us (queue deleted, node down): a fresh channel re-subscribes with backoff.
      this.deps.logger.warn('consumer cancelled by the broker', { queue: this.queue });
      this.failures++;
      b.ch.close().catch(() => undefined);
      return;
    }
    this.inFlight++;
    const startedAt = this.deps.clock.now();
    const tracer = activeTracer();
    if (tracer === undefined) {
      this.handle(b, msg, startedAt, undefined);
      return;
    }
    // Handler, settlement and their log lines all run inside the delivery's span.
    const trace = ConsumeTrace.start(tracer, this.queue, msg, b.instrumented);
    trace.run(() => this.handle(b, msg, startedAt, trace));
  }

  private handle(
    b: Binding,
    msg: ConsumeMessage,
    startedAt: number,
    trace: ConsumeTrace | undefined,
  ): void {
    let result: unknown;
    try {
      result = this.handler(msg);
    } catch (error) {
      this.settle(b, msg, error, startedAt, false, trace);
      return;
    }
    if (isThenable(result)) {
      result.then(
        () => this.settle(b, msg, undefined, startedAt, true, trace),
        (error: unknown) => this.settle(b, msg, error, startedAt, false, trace),
      );
    } else {
      this.settle(b, msg, undefined, startedAt, true, trace);
    }
  }

  private settle(
    b: Binding,
    msg: ConsumeMessage,
    error: unknown,
    startedAt: number,
    ok: boolean,
    trace: ConsumeTrace | undefined,
  ): void {
    const seconds = (this.deps.clock.now() - startedAt) / 1000;
    const requeue = ok
      ? false
      : decideRequeue(this.options.requeueOnError ?? 'once', error, msg, this.deps.logger);
    let settlement: Settlement = ok ? 'ack' : requeue ? 'requeue' : 'reject';
    if (b.alive) {
      try {
        if (ok) b.ch.ack(msg);
        else b.ch.nack(msg, false, requeue);
        this.deps.metrics.consumed(settlement, seconds);
      } catch {
        // The channel closed under us between the check and the send: same as stale.
        settlement = 'stale';
        this.stale(b, msg, ok);
      }
      if (!ok) {
        this.deps.logger.warn('consumer handler failed', {
          queue: this.queue,
          requeue,
          messageId: msg.properties.messageId as unknown,
          error: errorMessage(error),
        });
      }
    } else {
      settlement = 'stale';
      this.stale(b, msg, ok);
    }
    trace?.settled(settlement, error, !ok);
    this.inFlight--;
    if (this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private stale(b: Binding, msg: ConsumeMessage, ok: boolean): void {
    this.staleDeliveries++;
    // One series per dropped delivery (outcome="stale_ack"), not also a consume outcome.
    this.deps.metrics.staleDelivery();
    const error = new StaleDeliveryError(
      this.queue,
      msg.fields.deliveryTag,
      b.generation,
      ok ? 'ack' : 'nack',
    );
    this.deps.logger.warn(error.message, { queue: this.queue });
    this.deps.onStaleDelivery(error);
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function decideRequeue(
  policy: RequeuePolicy,
  error: unknown,
  msg: ConsumeMessage,
  logger: MqLogger,
): boolean {
  if (policy === 'once') return !msg.fields.redelivered;
  if (typeof policy === 'boolean') return policy;
  try {
    return policy(error, msg);
  } catch (e) {
    logger.error('requeueOnError policy threw; rejecting the message', { error: errorMessage(e) });
    return false;
  }
}

import amqp from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { fullJitterBackoff } from '../core/backoff.js';
import type { Clock, TimerHandle } from '../core/clock.js';
import { refusalLogLevel, retryLogLevel, type MqLogger } from '../core/logger.js';
import { redactUrl } from '../core/redact-url.js';
import type { ConnectionRole, RabbitMqMetricsRecorder } from './rabbitmq-metrics.js';
import type { ResolvedRabbitMqOptions } from './rabbitmq-options.js';
import { errorMessage, withDeadline } from '../core/with-deadline.js';
import { PermanentConnectError } from '../core/errors/permanent-connect.error.js';
import { amqpPermanentFailure } from './amqp-connect-failure.js';
import { coalesceWrites } from './write-coalescer.js';

/**
 * One managed AMQP connection and its reconnect loop.
 *
 * States: idle -> connecting -> up -> (lost) backoff -> connecting -> … ; any -> closed (terminal).
 * Invariants: `model` is set iff state === 'up'; `generation` grows by one on every successful connect, so
 * anything bound to an older generation (channels, deliveries) is known to be dead; at most one connect
 * attempt is in flight per slot; every timer is unref'ed.
 */
export type SlotState = 'idle' | 'connecting' | 'up' | 'backoff' | 'closed';

export interface SlotListener {
  up(slot: ConnectionSlot): void;
  /** A connect attempt failed (the slot is backing off); `slot.lastError` says why. */
  failed(slot: ConnectionSlot): void;
  down(slot: ConnectionSlot, cause: Error): void;
  blocked(slot: ConnectionSlot, reason: string): void;
  unblocked(slot: ConnectionSlot): void;
}

export interface SlotDeps {
  /** The pool's name, for errors users read. */
  poolName: string;
  options: ResolvedRabbitMqOptions;
  role: ConnectionRole;
  index: number;
  clock: Clock;
  logger: MqLogger;
  metrics: RabbitMqMetricsRecorder;
  random: () => number;
  listener: SlotListener;
}

export class ConnectionSlot {
  readonly role: ConnectionRole;
  readonly index: number;
  readonly name: string;
  state: SlotState = 'idle';
  model: ChannelModel | undefined;
  generation = 0;
  blocked = false;
  /** Pool channels currently open on this connection (maintained by the channel factory). */
  channelCount = 0;
  lastError: Error | undefined;
  /** Connect attempts made, all time. */
  attempts = 0;
  /** Consecutive failed connects, and connections lost before they proved stable (see lost()). */
  private failures = 0;
  private upAt = 0;
  /** The last connection dropped before it proved stable: siblings coming up do not wake this slot. */
  private flapping = false;
  private everUp = false;
  private urlIndex: number;
  private timer: TimerHandle | undefined;
  private watchdog: TimerHandle | undefined;

  constructor(private readonly deps: SlotDeps) {
    this.role = deps.role;
    this.index = deps.index;
    this.name = `${deps.options.connectionName}:${deps.role}:${deps.index}`;
    // Spread slots over cluster nodes from the start.
    this.urlIndex = deps.index;
  }

  get isUp(): boolean {
    return this.state === 'up';
  }

  start(): void {
    if (this.state === 'idle') void this.connect();
  }

  /**
   * A sibling just connected: the broker is likely back, so skip the rest of this slot's backoff —
   * unless this slot's connections keep dropping right after they open, which waking would turn
   * into a reconnect loop.
   */
  wake(): void {
    if (this.state !== 'backoff' || this.flapping) return;
    this.clearTimer();
    void this.connect();
  }

  /**
   * Closes the connection within `connectTimeoutMs`, and by `untilAt` (clock time) when given. A
   * broker that does not answer the close in time gets its socket destroyed: nothing is left open.
   */
  async close(untilAt?: number): Promise<void> {
    if (this.state === 'closed') return;
    const model = this.model;
    this.state = 'closed';
    this.model = undefined;
    this.clearTimer();
    this.stopWatchdog();
    if (model) {
      const { connectTimeoutMs } = this.deps.options;
      const limitMs =
        untilAt === undefined
          ? connectTimeoutMs
          : Math.max(0, Math.min(connectTimeoutMs, untilAt - this.deps.clock.now()));
      await withDeadline(
        model.close(),
        limitMs,
        this.deps.clock,
        () => new Error(`connection.close timed out after ${limitMs}ms`),
      ).catch(() => socketOf(model)?.destroy(new Error('connection.close timed out')));
    }
  }

  private async connect(): Promise<void> {
    const { options, logger } = this.deps;
    const url = options.urls[this.urlIndex % options.urls.length] as string;
    this.state = 'connecting';
    this.attempts++;
    let model: ChannelModel;
    try {
      model = await this.open(url);
    } catch (error) {
      // The connect error itself becomes the `cause` of timed-out acquires, so keep it as is —
      // unless the broker refused in a way no retry fixes: then a typed error says what to change.
      const target = redactUrl(url);
      const refused = amqpPermanentFailure(error, { pool: this.deps.poolName, target });
      this.lastError = refused ?? (error instanceof Error ? error : new Error(String(error)));
      if (this.everUp) this.deps.metrics.reconnect(this.role, 'failure');
      if ((this.state as SlotState) === 'closed') return;
      this.failures++;
      this.urlIndex++;
      if (refused) {
        logger[refusalLogLevel(this.failures)](
          'RabbitMQ refused the connection; a retry cannot succeed until the configuration or the broker changes, retrying every reconnect.maxDelayMs',
          { connection: this.name, url: target, attempt: this.failures, error: refused.message },
        );
      } else {
        logger[retryLogLevel(this.failures)]('RabbitMQ connect failed', {
          connection: this.name,
          url: target,
          attempt: this.failures,
          error: errorMessage(error),
        });
      }
      this.scheduleRetry();
      this.deps.listener.failed(this);
      return;
    }
    if ((this.state as SlotState) === 'closed') {
      discard(model);
      return;
    }
    this.attach(model);
    this.model = model;
    this.watchSilence(model);
    if (options.coalesceWrites) coalesceWrites(socketOf(model));
    this.generation++;
    // `failures` is reset only once this connection proved stable (lost() decides): a broker or load
    // balancer that accepts connections and drops them at once must not get a reconnect every 100 ms.
    this.upAt = this.deps.clock.now();
    this.state = 'up';
    if (this.everUp) this.deps.metrics.reconnect(this.role, 'success');
    this.everUp = true;
    logger.info('RabbitMQ connection up', {
      connection: this.name,
      url: redactUrl(url),
      generation: this.generation,
    });
    this.deps.listener.up(this);
  }

  private open(url: string): Promise<ChannelModel> {
    const { options, clock } = this.deps;
    const target = new URL(url);
    target.searchParams.set('heartbeat', String(options.heartbeatSeconds));
    const userProps = options.socketOptions['clientProperties'];
    const socketOptions = {
      ...options.socketOptions,
      timeout: options.connectTimeoutMs,
      clientProperties: {
        ...(typeof userProps === 'object' && userProps !== null ? userProps : {}),
        connection_name: this.name,
      },
    };
    const pending = amqp.connect(target.toString(), socketOptions);
    // amqplib's socket timeout covers silence, not a slow trickle: bound the whole attempt too.
    return withDeadline(pending, options.connectTimeoutMs, clock, () => {
      pending.then(discard, () => undefined);
      return new Error(`connect timed out after ${options.connectTimeoutMs}ms`);
    });
  }

  private attach(model: ChannelModel): void {
    const { logger, listener } = this.deps;
    model.on('error', (error: Error) => {
      if (this.model === model) this.lastError = error;
      logger.warn('RabbitMQ connection error', {
        connection: this.name,
        error: errorMessage(error),
      });
    });
    model.on('close', (error?: Error) => this.lost(model, error));
    model.on('blocked', (reason: string) => {
      if (this.model !== model) return;
      this.blocked = true;
      logger.warn('RabbitMQ connection blocked by the broker (resource alarm)', {
        connection: this.name,
        reason,
      });
      listener.blocked(this, reason);
    });
    model.on('unblocked', () => {
      if (this.model !== model) return;
      this.blocked = false;
      logger.info('RabbitMQ connection unblocked', { connection: this.name });
      listener.unblocked(this);
    });
    model.on('handler-error', (error: Error, event: string) => {
      logger.error('RabbitMQ connection listener threw', {
        connection: this.name,
        event,
        error: errorMessage(error),
      });
    });
  }

  private lost(model: ChannelModel, error: Error | undefined): void {
    if (this.model !== model) return;
    const cause = error ?? new Error('connection closed');
    this.model = undefined;
    this.stopWatchdog();
    this.blocked = false;
    this.lastError = cause;
    // Stable = it outlived the longest reconnect delay; a shorter life counts as one more failure.
    this.flapping = this.deps.clock.now() - this.upAt < this.deps.options.reconnect.maxDelayMs;
    this.failures = this.flapping ? this.failures + 1 : 0;
    this.deps.logger.warn('RabbitMQ connection lost', {
      connection: this.name,
      error: errorMessage(cause),
    });
    if (this.state === 'closed') return;
    this.state = 'backoff';
    this.deps.listener.down(this, cause);
    // Could have been closed by a listener.
    if ((this.state as SlotState) === 'backoff') this.scheduleRetry();
  }

  /**
   * Client-side heartbeat check, finer than amqplib's. amqplib declares the broker dead only after two of
   * its recv checks (one per interval) saw nothing, i.e. 2–3 intervals after the last byte (measured: 3 × on
   * a blackholed path). The broker sends something at least once per interval (RabbitMQ checks every
   * interval/2 and sends a heartbeat when it sent nothing since), so 1.5 intervals of silence, checked every
   * interval/4, means dead: detection within 1.75 × heartbeat of the last byte, inside the documented 2 ×.
   * Reads the socket's byte counter (no 'data' listener: that would steal amqplib's reads). A check that runs
   * late (event loop stalled) judges nothing, so a blocked process does not kill a healthy connection; the
   * socket error it raises makes amqplib close the connection and its channels as for its own timeout.
   */
  private watchSilence(model: ChannelModel): void {
    const { clock, options } = this.deps;
    const intervalMs = options.heartbeatSeconds * 1_000;
    const socket = socketOf(model);
    if (intervalMs <= 0 || socket === undefined) return;
    const periodMs = Math.max(50, Math.floor(intervalMs / 4));
    const limitMs = Math.floor(intervalMs * 1.5);
    let bytes = socket.bytesRead;
    let lastSeen = clock.now();
    let dueAt = lastSeen + periodMs;
    const check = (): void => {
      this.watchdog = undefined;
      if (this.model !== model) return;
      const now = clock.now();
      if (socket.bytesRead !== bytes || now - dueAt > periodMs) {
        bytes = socket.bytesRead;
        lastSeen = now;
      } else if (now - lastSeen >= limitMs) {
        socket.destroy(
          new Error(
            `Heartbeat timeout: nothing from the broker for ${Math.round(now - lastSeen)}ms (heartbeat ${options.heartbeatSeconds}s)`,
          ),
        );
        return;
      }
      dueAt = now + periodMs;
      this.watchdog = clock.setTimeout(check, periodMs);
      this.watchdog.unref?.();
    };
    this.watchdog = clock.setTimeout(check, periodMs);
    this.watchdog.unref?.();
  }

  private stopWatchdog(): void {
    if (this.watchdog !== undefined) this.deps.clock.clearTimeout(this.watchdog);
    this.watchdog = undefined;
  }

  private scheduleRetry(): void {
    const { options, clock, random } = this.deps;
    this.state = 'backoff';
    // A refusal no retry fixes is retried at the slow end only: never a hot loop against a broker
    // that keeps saying no (the operator may still fix its side, so the slot does not give up).
    const delay =
      this.lastError instanceof PermanentConnectError
        ? options.reconnect.maxDelayMs
        : fullJitterBackoff(this.failures, options.reconnect, random);
    this.timer = clock.setTimeout(() => {
      this.timer = undefined;
      if (this.state === 'backoff') void this.connect();
    }, delay);
    this.timer.unref?.();
  }

  private clearTimer(): void {
    if (this.timer !== undefined) this.deps.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * Closes a connection nobody will use (it opened after its deadline, or after the slot closed). It
 * has no listeners yet: without an 'error' listener, a socket failure during the close ("Unexpected
 * close") would be an unhandled 'error' event and crash the process.
 */
function discard(model: ChannelModel): void {
  model.on('error', () => undefined);
  model.close().catch(() => undefined);
}

/** The TCP/TLS socket under an amqplib connection (not in amqplib's types; absent means no watchdog). */
function socketOf(
  model: ChannelModel,
): { readonly bytesRead: number; destroy(error: Error): void } | undefined {
  const stream = (model as { connection?: { stream?: unknown } }).connection?.stream as
    { bytesRead?: unknown; destroy?: unknown } | undefined;
  if (typeof stream?.bytesRead !== 'number' || typeof stream.destroy !== 'function')
    return undefined;
  return stream as { readonly bytesRead: number; destroy(error: Error): void };
}

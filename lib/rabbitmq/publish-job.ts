import type { Options } from 'amqplib';
import type { TimerHandle } from '../core/clock.js';
import type { Settlers } from '../core/settlers.js';
import type { Queueable } from '../core/waiter-queue.js';
import type { UnroutableMessageError } from './errors/unroutable-message.error.js';
import type { PublishTrace } from './publish-trace.js';

const unsettled = (): void => undefined;

/**
 * One `publish()` call while it is in the publisher lane. States: waiting (queued for capacity) ->
 * sent (written, awaiting its confirm) -> settled; a sent job whose channel dies goes back to waiting
 * once (`attempts` 1 -> 2) with the same messageId. `settled` is terminal and checked by every path, so
 * a late ack, timeout or abort can never settle a job twice.
 *
 * A class with every field set in the constructor: one hidden class for all jobs keeps the hot path
 * monomorphic.
 */
export class PublishJob implements Settlers<void>, Queueable {
  readonly mandatory: boolean;
  /** In the lane's wait queue (the core's `WaiterQueue` sets and clears it). */
  queued = false;
  resolve: () => void = unsettled;
  reject: (error: unknown) => void = unsettled;
  settled = false;
  attempts = 0;
  /** Written to a channel at least once: from then on its outcome is unknown until a confirm. */
  written = false;
  sentAt = 0;
  /** Set by a `basic.return` that precedes the ack of a mandatory publish. */
  returned: UnroutableMessageError | undefined = undefined;
  waitTimer: TimerHandle | undefined = undefined;
  /**
   * What is left of `timeoutMs` for waiting for a channel, over all attempts: a retry after a dead
   * channel waits only for the rest, so no publish waits for a channel longer than `timeoutMs` in all.
   */
  waitLeftMs: number;
  /** When it last joined the wait queue (clock ms). */
  queuedAt = 0;
  onAbort: (() => void) | undefined = undefined;
  /**
   * After its channel died with its connection: that connection (and generation) is not used for the retry.
   * amqplib closes a dead connection's channels one by one before it reports the connection closed, so its
   * other channels still look usable for a moment.
   */
  avoid: { slot: object; generation: number } | undefined = undefined;
  /** Set only when an OpenTelemetry SDK is registered. */
  trace: PublishTrace | undefined = undefined;

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly body: Buffer,
    readonly options: Options.Publish,
    readonly messageId: string,
    readonly timeoutMs: number,
    readonly signal: AbortSignal | undefined,
    readonly startedAt: number,
  ) {
    this.mandatory = options.mandatory === true;
    this.waitLeftMs = timeoutMs;
  }
}

import type { ConfirmChannel, ConsumeMessage, Message, Options } from 'amqplib';
import type { Clock } from '../core/clock.js';
import type { MqLogger } from '../core/logger.js';
import { errorMessage, withDeadline } from '../core/with-deadline.js';
import type { ConnectionSlot } from './connection-slot.js';
import { ConnectionUnavailableError } from './errors/connection-unavailable.error.js';
import { DIRECT_REPLY_TO } from './rpc-reply.js';

/** What the reply channel tells its owner (the RPC client). */
export interface ReplyChannelHooks {
  reply(message: ConsumeMessage): void;
  /** A mandatory request the broker could not route (`basic.return`). */
  returned(message: Message): void;
  /** The channel closed (broker error, connection lost, or closed by us): called once. */
  closed(channel: ReplyChannel, reason: Error | undefined): void;
}

/**
 * The channel requests are published on and replies arrive on. RabbitMQ delivers a direct reply-to
 * reply only to the channel that published the request, and only while that channel consumes
 * `amq.rabbitmq.reply-to` (noAck), so both happen on this one channel. A confirm channel: a request
 * the broker nacks fails at once instead of waiting for its deadline.
 *
 * Not a pool channel: it lives as long as its connection, outside `channelsPerConnection` (like a
 * consumer's channel), and is never leased.
 */
export class ReplyChannel {
  alive = true;
  closeReason: Error | undefined = undefined;

  private constructor(
    readonly channel: ConfirmChannel,
    readonly slot: ConnectionSlot,
    readonly generation: number,
    private readonly hooks: ReplyChannelHooks,
  ) {}

  /** Opens a confirm channel on `slot` and starts consuming direct reply-to, within `timeoutMs`. */
  static async open(
    slot: ConnectionSlot,
    hooks: ReplyChannelHooks,
    deps: { clock: Clock; logger: MqLogger; timeoutMs: number },
  ): Promise<ReplyChannel> {
    const model = slot.model;
    const generation = slot.generation;
    if (model === undefined) {
      throw new ConnectionUnavailableError('the publisher connection dropped', slot.lastError);
    }
    const bounded = <T>(work: Promise<T>, what: string): Promise<T> =>
      withDeadline(
        work,
        deps.timeoutMs,
        deps.clock,
        () => new Error(`${what} timed out after ${deps.timeoutMs}ms`),
      );
    const opening = model.createConfirmChannel();
    const ch = await bounded(opening, 'channel.open').catch((error: unknown) => {
      // Opened after its deadline: nobody will use it.
      opening
        .then(
          (late) => late.close(),
          () => undefined,
        )
        .catch(() => undefined);
      throw error;
    });
    const rc = new ReplyChannel(ch, slot, generation, hooks);
    ch.on('error', (error: Error) => {
      rc.closeReason ??= error;
      deps.logger.debug('RPC reply channel closed by the broker', { error: errorMessage(error) });
    });
    ch.on('close', () => rc.markClosed(rc.closeReason));
    ch.on('return', (message: Message) => hooks.returned(message));
    ch.on('handler-error', (error: Error, event: string) => {
      deps.logger.error('RPC reply channel listener threw', { event, error: errorMessage(error) });
    });
    try {
      await bounded(
        ch.consume(DIRECT_REPLY_TO, (message) => message !== null && hooks.reply(message), {
          noAck: true,
        }),
        'basic.consume of amq.rabbitmq.reply-to',
      );
    } catch (error) {
      rc.markClosed(rc.closeReason);
      ch.close().catch(() => undefined);
      throw rc.closeReason ?? error;
    }
    // The connection may have died during the handshake without the channel's close reaching us yet.
    if (slot.generation !== generation || !slot.isUp) rc.markClosed(slot.lastError);
    if (!rc.alive) {
      throw new ConnectionUnavailableError(
        'the connection was lost while the RPC reply channel was being opened',
        rc.closeReason,
      );
    }
    return rc;
  }

  /** Writes a request; `onConfirm` gets the broker's ack (null) or nack/close error. Throws if the channel is closed. */
  publish(
    exchange: string,
    routingKey: string,
    content: Buffer,
    options: Options.Publish,
    onConfirm: (error: Error | null) => void,
  ): void {
    this.channel.publish(exchange, routingKey, content, options, (error: unknown) =>
      onConfirm(error === null || error === undefined ? null : (error as Error)),
    );
  }

  /** Out of use from now on (idempotent): the owner hears of it once. */
  markClosed(reason: Error | undefined): void {
    if (!this.alive) return;
    this.alive = false;
    this.closeReason ??= reason;
    this.hooks.closed(this, this.closeReason);
  }

  async close(timeoutMs: number, clock: Clock): Promise<void> {
    this.markClosed(undefined);
    await withDeadline(
      this.channel.close(),
      timeoutMs,
      clock,
      () => new Error(`channel.close timed out after ${timeoutMs}ms`),
    ).catch(() => undefined);
  }
}

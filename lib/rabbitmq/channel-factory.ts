import type { Clock } from '../core/clock.js';
import type { MqLogger } from '../core/logger.js';
import type { ResourceFactory } from '../core/resource-factory.js';
import type { ConnectionSet } from './connection-set.js';
import type { ConnectionSlot } from './connection-slot.js';
import { ConnectionUnavailableError } from './errors/connection-unavailable.error.js';
import { PooledChannel } from './pooled-channel.js';
import { errorMessage, withDeadline } from '../core/with-deadline.js';

/**
 * Creates and destroys the pool's confirm channels on the publisher connections. It enforces the
 * per-connection bound (`channelsPerConnection`) — the pool enforces the total — and spreads channels
 * over the least-loaded unblocked connection. When a connection dies, every channel on it is marked
 * closed and handed to `onDead` (the pool retires them all at once).
 *
 * It keeps no backoff of its own: the connection slots own the reconnect timing. A create with no
 * connection up waits for the connections' next change (`ConnectionSet.nextChange`), so channels
 * exist the moment the broker is back, but at most `waitForConnectionMs`; then it fails with the
 * last connect error, which the pool hands to timed-out callers as `cause`. The pool's create
 * backoff is configured near zero (a floor against a tight loop when opens fail on a live
 * connection), and the pool resets it when a connection comes up.
 */
export class ChannelFactory implements ResourceFactory<PooledChannel> {
  private readonly open = new Set<PooledChannel>();
  /** Abort signals already wired to wake waiting creates (the pool passes one signal to every create). */
  private readonly wiredSignals = new WeakSet<AbortSignal>();
  /**
   * Set by the owner once the pool exists (the pool needs the factory first): the pool's `retire`.
   * A closing channel calls it before its close listeners run (see PooledChannel).
   */
  onDead: (pc: PooledChannel, reason: Error | undefined) => void = () => undefined;
  private readonly retireInPool = (pc: PooledChannel, reason: Error | undefined): void =>
    this.onDead(pc, reason);

  constructor(
    private readonly connections: ConnectionSet,
    private readonly deps: {
      channelsPerConnection: number;
      /** Longest a create waits for a connection with room before failing with the last connect error. */
      waitForConnectionMs: number;
      /** Bound of a channel open/close round trip. */
      rpcTimeoutMs: number;
      clock: Clock;
      logger: MqLogger;
    },
  ) {
    connections.events.on('down', ({ slot, cause }) => {
      for (const pc of [...this.open]) if (pc.slot === slot) this.dead(pc, cause);
    });
  }

  get openCount(): number {
    return this.open.size;
  }

  async create(signal?: AbortSignal): Promise<PooledChannel> {
    const { clock } = this.deps;
    if (signal && !this.wiredSignals.has(signal)) {
      // One listener per signal, not one per wait: an abort wakes every waiting create through notifyChange().
      this.wiredSignals.add(signal);
      signal.addEventListener('abort', () => this.connections.notifyChange(), { once: true });
    }
    if (signal?.aborted) throw signal.reason;
    const slot = await this.waitForSlot(signal);
    const generation = slot.generation;
    const model = slot.model;
    if (!model)
      throw new ConnectionUnavailableError(
        'connection dropped while opening a channel',
        slot.lastError,
      );
    // Reserve the room before the await so concurrent creates respect channelsPerConnection.
    slot.channelCount++;
    let ch;
    try {
      ch = await withDeadline(
        model.createConfirmChannel(),
        this.deps.rpcTimeoutMs,
        clock,
        () => new Error(`channel.open timed out after ${this.deps.rpcTimeoutMs}ms`),
      );
    } catch (error) {
      slot.channelCount--;
      this.connections.notifyChange();
      // The connection died under the open ("Channel ended, no reply will be forthcoming"): the
      // connection's own error says why, and it is what a caller timing out should see as cause.
      if (slot.generation !== generation || !slot.isUp) throw slot.lastError ?? error;
      throw error;
    }
    const pc = new PooledChannel(ch, slot, generation, this.retireInPool);
    this.open.add(pc);
    pc.onClose(() => {
      this.open.delete(pc);
      slot.channelCount--;
      this.connections.notifyChange();
    });
    ch.on('error', (error: Error) => {
      // Only the holder's operation sees the failure (its promise rejects); here we just record why.
      pc.closeReason ??= error;
      this.deps.logger.debug('RabbitMQ channel closed by the broker', {
        channel: pc.id,
        error: errorMessage(error),
      });
    });
    ch.on('close', () => this.dead(pc, pc.closeReason));
    ch.on('handler-error', (error: Error, event: string) => {
      this.deps.logger.error('RabbitMQ channel listener threw', {
        channel: pc.id,
        event,
        error: errorMessage(error),
      });
    });
    // The connection may have died during the handshake without us seeing the channel's close. The
    // pool does not know this channel yet (a retire() would be ignored), so returning it would put
    // a dead channel in the idle stack: fail the create instead (the pool backs off and retries).
    if (slot.generation !== generation || !slot.isUp) this.dead(pc, slot.lastError);
    if (pc.closed) {
      throw new ConnectionUnavailableError(
        'the connection was lost while a channel was being opened',
        pc.closeReason,
      );
    }
    return pc;
  }

  async destroy(pc: PooledChannel): Promise<void> {
    if (pc.closed) return;
    pc.markClosed(undefined);
    try {
      await withDeadline(
        pc.channel.close(),
        this.deps.rpcTimeoutMs,
        this.deps.clock,
        () => new Error(`channel.close timed out after ${this.deps.rpcTimeoutMs}ms`),
      );
    } catch {
      // Already closed by the broker or its connection: nothing left to release.
    }
  }

  validate(pc: PooledChannel): boolean {
    return pc.alive;
  }

  /** Retires it in the pool, then tells its holders (PooledChannel.markClosed). */
  private dead(pc: PooledChannel, reason: Error | undefined): void {
    pc.markClosed(reason);
  }

  private pickSlot(): ConnectionSlot | undefined {
    let best: ConnectionSlot | undefined;
    let bestBlocked: ConnectionSlot | undefined;
    for (const slot of this.connections.publishers) {
      if (!slot.isUp || slot.channelCount >= this.deps.channelsPerConnection) continue;
      if (slot.blocked) {
        if (!bestBlocked || slot.channelCount < bestBlocked.channelCount) bestBlocked = slot;
      } else if (!best || slot.channelCount < best.channelCount) best = slot;
    }
    // A blocked connection still serves declarations and consumes; the publisher lane skips its channels.
    return best ?? bestBlocked;
  }

  private async waitForSlot(signal?: AbortSignal): Promise<ConnectionSlot> {
    const { clock, waitForConnectionMs } = this.deps;
    let slot = this.pickSlot();
    if (slot) return slot;
    const deadline = clock.now() + waitForConnectionMs;
    while (!slot) {
      const left = deadline - clock.now();
      if (signal?.aborted || left <= 0) {
        const cause = this.connections.lastError();
        if (cause) throw cause;
        throw new ConnectionUnavailableError(
          this.connections.anyPublisherUp()
            ? `every publisher connection holds channelsPerConnection (${this.deps.channelsPerConnection}) channels`
            : 'no publisher connection is up',
        );
      }
      await this.connections.nextChange(left);
      slot = this.pickSlot();
    }
    return slot;
  }
}

import type { Clock } from '../core/clock.js';
import type { MqLogger } from '../core/logger.js';
import { ConnectionSlot, type SlotListener } from './connection-slot.js';
import type { RabbitMqMetricsRecorder } from './rabbitmq-metrics.js';
import type { ResolvedRabbitMqOptions } from './rabbitmq-options.js';
import { TypedEmitter } from '../core/typed-emitter.js';
import { PermanentConnectError } from '../core/errors/permanent-connect.error.js';

export interface ConnectionSetEvents {
  up: ConnectionSlot;
  down: { slot: ConnectionSlot; cause: Error };
  blocked: { slot: ConnectionSlot; reason: string };
  unblocked: ConnectionSlot;
}

export interface ConnectionSetStats {
  publishers: { total: number; up: number; blocked: number };
  consumers: { total: number; up: number; blocked: number };
  /** Connect attempts of all slots, all time (first connects included). */
  connectAttempts: number;
}

/**
 * The publisher connections (which hold the channel pool) and the consumer connections. Consumers get
 * their own sockets by default: a resource alarm blocks a publishing connection as a whole, and acks
 * queued behind it would then stall too. Each slot reconnects on its own; when one comes back, the
 * others skip the rest of their backoff (the broker is evidently reachable again).
 */
export class ConnectionSet {
  readonly publishers: readonly ConnectionSlot[];
  readonly consumers: readonly ConnectionSlot[];
  readonly events: TypedEmitter<ConnectionSetEvents>;
  private readonly slots: readonly ConnectionSlot[];
  private changeWaiters = new Set<() => void>();
  private consumerCursor = 0;
  private readonly clock: Clock;

  constructor(
    options: ResolvedRabbitMqOptions,
    deps: {
      poolName: string;
      clock: Clock;
      logger: MqLogger;
      metrics: RabbitMqMetricsRecorder;
      random: () => number;
    },
  ) {
    this.clock = deps.clock;
    this.events = new TypedEmitter<ConnectionSetEvents>(deps.logger, 'rabbitmq connections');
    const listener: SlotListener = {
      up: (slot) => {
        for (const other of this.slots) if (other !== slot) other.wake();
        this.events.emit('up', slot);
        this.notifyChange();
      },
      // Start-up waits on this: a refusal that no retry fixes must fail it at once.
      failed: () => this.notifyChange(),
      down: (slot, cause) => {
        this.events.emit('down', { slot, cause });
        this.notifyChange();
      },
      blocked: (slot, reason) => {
        this.events.emit('blocked', { slot, reason });
        this.notifyChange();
      },
      unblocked: (slot) => {
        this.events.emit('unblocked', slot);
        this.notifyChange();
      },
    };
    const make = (role: 'publisher' | 'consumer', index: number): ConnectionSlot =>
      new ConnectionSlot({ options, role, index, listener, ...deps });
    this.publishers = Array.from({ length: options.connections }, (_, i) => make('publisher', i));
    this.consumers =
      options.consumerConnections === 0
        ? this.publishers
        : Array.from({ length: options.consumerConnections }, (_, i) => make('consumer', i));
    this.slots =
      this.consumers === this.publishers
        ? this.publishers
        : [...this.publishers, ...this.consumers];
  }

  start(): void {
    for (const slot of this.slots) slot.start();
  }

  /**
   * Calls `fn` once at the next change of connection state or channel room (`notifyChange()`); callers
   * re-check and race their own deadline. Returns an unsubscribe, so abandoned waits do not pile up.
   */
  onNextChange(fn: () => void): () => void {
    this.changeWaiters.add(fn);
    return () => this.changeWaiters.delete(fn);
  }

  /**
   * Resolves at the next change of connection state or channel room, or after `ms`: the one way
   * to wait for a connection. Whoever waits re-checks what it needs and its own deadline; the
   * slots own the reconnect timing, so nobody waiting here keeps a backoff of its own.
   */
  nextChange(ms: number): Promise<void> {
    const clock = this.clock;
    return new Promise<void>((resolve) => {
      const timer = clock.setTimeout(done, ms);
      timer.unref?.();
      const unsubscribe = this.onNextChange(done);
      function done(): void {
        clock.clearTimeout(timer);
        unsubscribe();
        resolve();
      }
    });
  }

  notifyChange(): void {
    if (this.changeWaiters.size === 0) return;
    const waiters = [...this.changeWaiters];
    this.changeWaiters.clear();
    for (const w of waiters) w();
  }

  /** The most recent connect/connection failure of any slot: the `cause` callers see when nothing is up. */
  lastError(): Error | undefined {
    for (const slot of this.slots) if (!slot.isUp && slot.lastError) return slot.lastError;
    for (const slot of this.slots) if (slot.lastError) return slot.lastError;
    return undefined;
  }

  /** A refusal no retry fixes (credentials, vhost, TLS) that a slot met on its last attempt, if any. */
  permanentFailure(): PermanentConnectError | undefined {
    for (const slot of this.slots)
      if (!slot.isUp && slot.lastError instanceof PermanentConnectError) return slot.lastError;
    return undefined;
  }

  /** Round-robin over up consumer connections, unblocked first. */
  pickConsumerSlot(): ConnectionSlot | undefined {
    const n = this.consumers.length;
    let fallback: ConnectionSlot | undefined;
    for (let i = 0; i < n; i++) {
      const slot = this.consumers[(this.consumerCursor + i) % n] as ConnectionSlot;
      if (!slot.isUp) continue;
      if (!slot.blocked) {
        this.consumerCursor = (this.consumerCursor + i + 1) % n;
        return slot;
      }
      fallback ??= slot;
    }
    return fallback;
  }

  anyPublisherUp(): boolean {
    return this.publishers.some((s) => s.isUp);
  }

  stats(): ConnectionSetStats {
    const count = (list: readonly ConnectionSlot[]) => ({
      total: list.length,
      up: list.filter((s) => s.isUp).length,
      blocked: list.filter((s) => s.isUp && s.blocked).length,
    });
    return {
      publishers: count(this.publishers),
      consumers: count(this.consumers),
      connectAttempts: this.slots.reduce((sum, s) => sum + s.attempts, 0),
    };
  }

  /** Closes every connection, each within `connectTimeoutMs` and by `untilAt` (clock time) if given. */
  async close(untilAt?: number): Promise<void> {
    await Promise.all(this.slots.map((s) => s.close(untilAt)));
    this.notifyChange();
  }
}

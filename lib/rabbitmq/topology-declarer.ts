import type { Channel, Options } from 'amqplib';
import type { Clock } from '../core/clock.js';
import type { MqLogger } from '../core/logger.js';
import { withDeadline } from '../core/with-deadline.js';
import type { PoolChannelLease } from './channel-lease.js';
import { ConnectionUnavailableError } from './errors/connection-unavailable.error.js';
import { topologyMismatchFrom } from './topology-mismatch.js';
import type { ResolvedRabbitTopology } from './topology-options.validator.js';

export interface TopologyDeclarerDeps {
  /** A lease on a pool channel (publisher connection). */
  acquire(): Promise<PoolChannelLease>;
  /** Deadline of one whole declaration round (the broker may stop answering mid-way). */
  timeoutMs: number;
  clock: Clock;
  logger: MqLogger;
}

/**
 * Declares `rabbitmq.topology` (exchanges, then queues, then bindings) — at start, and again after
 * every connection loss, before any handler (re-)attaches: a broker that restarted without
 * persistence, or an operator who deleted a queue, gets it back before a consumer needs it.
 *
 * Epochs: every connection loss bumps `epoch` (`invalidate()`); `ready()` resolves once a round
 * begun in the current epoch succeeded, sharing one round among concurrent callers. Declaring is
 * idempotent, so a loss of a connection the topology did not need only costs one more round.
 */
export class TopologyDeclarer {
  private epoch = 0;
  private declaredEpoch = -1;
  private running: Promise<void> | undefined;
  /** The last round's failure, until a round succeeds (health reports it). */
  lastError: unknown = undefined;

  constructor(
    private readonly topology: ResolvedRabbitTopology,
    private readonly deps: TopologyDeclarerDeps,
  ) {}

  /** Nothing to declare: `ready()` is free. */
  get empty(): boolean {
    const t = this.topology;
    return t.exchanges.length + t.queues.length + t.bindings.length === 0;
  }

  /** A connection was lost: the next `ready()` declares again. */
  invalidate(): void {
    this.epoch++;
  }

  /** Resolves once the topology is declared since the last connection loss; rejects with the round's error. */
  ready(): Promise<void> {
    if (this.empty || this.declaredEpoch === this.epoch) return Promise.resolve();
    this.running ??= this.declareUntilCurrent().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async declareUntilCurrent(): Promise<void> {
    // A loss during a round makes that round's result stale: declare again.
    while (this.declaredEpoch !== this.epoch) {
      const epoch = this.epoch;
      try {
        await this.declareOnce();
      } catch (error) {
        this.lastError = error;
        throw error;
      }
      this.lastError = undefined;
      this.declaredEpoch = epoch;
    }
  }

  private async declareOnce(): Promise<void> {
    const { acquire, timeoutMs, clock, logger } = this.deps;
    const lease = await acquire();
    try {
      await withDeadline(
        declareTopology(lease.channel, this.topology),
        timeoutMs,
        clock,
        () =>
          new ConnectionUnavailableError(
            `topology declaration got no answer within ${timeoutMs}ms`,
          ),
      );
    } catch (error) {
      // A refused declaration (404, 406) closed the channel, and a timed-out one left it in an
      // unknown state: either way it must not serve another holder.
      await lease.destroy(error);
      throw error;
    }
    lease.release();
    const t = this.topology;
    logger.info('RabbitMQ topology declared', {
      exchanges: t.exchanges.length,
      queues: t.queues.length,
      bindings: t.bindings.length,
    });
  }
}

/** The declarations, in dependency order. A 406 becomes TopologyMismatchError naming the entity and argument. */
export async function declareTopology(
  ch: Channel,
  topology: ResolvedRabbitTopology,
): Promise<void> {
  for (const x of topology.exchanges) {
    try {
      await ch.assertExchange(x.name, x.type, x.options);
    } catch (error) {
      throw topologyMismatchFrom(error, { kind: 'exchange', name: x.name }) ?? error;
    }
  }
  for (const q of topology.queues) {
    const options: Options.AssertQueue = { ...q.options };
    if (q.type !== undefined) {
      options.arguments = {
        ...(q.options?.arguments as object | undefined),
        'x-queue-type': q.type,
      };
    }
    try {
      await ch.assertQueue(q.name, options);
    } catch (error) {
      throw topologyMismatchFrom(error, { kind: 'queue', name: q.name }) ?? error;
    }
  }
  // A binding to an exchange or queue that exists nowhere fails with the broker's own 404 ("NOT_FOUND -
  // no exchange 'x' in vhost '/'"), which names it already.
  for (const b of topology.bindings) {
    await ch.bindQueue(b.queue, b.exchange, b.routingKey ?? '', b.arguments);
  }
}

import { EventEmitter } from 'node:events';
import type { ConfirmChannel } from 'amqplib';
import { describe, expect, it } from 'vitest';

import { AcquireTimeoutError } from '../../../lib/core/errors/acquire-timeout.error.js';
import type { Lease } from '../../../lib/core/lease.js';
import { NOOP_LOGGER } from '../../../lib/core/logger.js';
import type { ConnectionSlot } from '../../../lib/rabbitmq/connection-slot.js';
import { PublishUnconfirmedError } from '../../../lib/rabbitmq/errors/publish-unconfirmed.error.js';
import { PooledChannel } from '../../../lib/rabbitmq/pooled-channel.js';
import { PublisherLane } from '../../../lib/rabbitmq/publisher-lane.js';
import { NOOP_RABBITMQ_METRICS } from '../../../lib/rabbitmq/rabbitmq-metrics.js';
import { FakeClock, flush } from '../core/support/fake-clock.js';

/**
 * The lane's deadline arithmetic, on fake time. The channel is a stand-in that records publishes and
 * never confirms: what happens on a real broker (retries, confirms, dead channels) is proven by the
 * integration and reliability suites; here only "how long may a publish wait for a channel".
 */
class SilentChannel extends EventEmitter {
  private readonly unconfirmed: ((err: Error | null) => void)[] = [];
  publish(...args: unknown[]): boolean {
    this.unconfirmed.push(args[4] as (err: Error | null) => void);
    return true;
  }
  /** What amqplib does when the connection goes: every unconfirmed callback gets an error. */
  failUnconfirmed(): void {
    for (const cb of this.unconfirmed.splice(0)) cb(new Error('channel closed'));
  }
}

/** The connection under `pc` was lost. */
function loseConnection(pc: PooledChannel): void {
  pc.markClosed(undefined);
  (pc.channel as unknown as SilentChannel).failUnconfirmed();
}

interface PendingLease {
  grant(): PooledChannel;
}

function rig(timeoutMs: number) {
  const clock = new FakeClock();
  const slot = { blocked: false, isUp: true, generation: 1 } as unknown as ConnectionSlot;
  const pending: PendingLease[] = [];
  const lane = new PublisherLane({
    name: 'test',
    publishChannels: 1,
    maxInFlightPerChannel: 8,
    maxWaiting: 100,
    acquireTimeoutMs: timeoutMs,
    confirmTimeoutMs: 60_000,
    rotateAfterMs: 0,
    backoff: { initialDelayMs: 10, maxDelayMs: 10 },
    // Channels arrive only when the test grants them, like a pool whose broker is away.
    acquire: () =>
      new Promise<Lease<PooledChannel>>((resolve) => {
        pending.push({
          grant: () => {
            const pc = new PooledChannel(new SilentChannel() as unknown as ConfirmChannel, slot, 1);
            resolve({
              resource: pc,
              release: () => undefined,
              destroy: () => Promise.resolve(),
              [Symbol.asyncDispose]: () => Promise.resolve(),
            });
            return pc;
          },
        });
      }),
    poolStats: () => ({
      max: 1,
      size: 0,
      idle: 0,
      leased: 0,
      creating: 0,
      validating: 0,
      waiting: 0,
      leaks: 0,
      draining: false,
      closed: false,
    }),
    lastFailure: () => new Error('connect ECONNREFUSED'),
    clock,
    logger: NOOP_LOGGER,
    metrics: NOOP_RABBITMQ_METRICS,
    random: () => 0.5,
  });
  const grant = async (): Promise<PooledChannel> => {
    while (pending.length === 0) await flush();
    const pc = pending.shift()!.grant();
    await flush();
    return pc;
  };
  return { clock, lane, grant };
}

const settledAt = (clock: FakeClock, promise: Promise<void>) => {
  const out: { at?: number; error?: unknown } = {};
  promise.then(
    () => (out.at = clock.now()),
    (error: unknown) => {
      out.at = clock.now();
      out.error = error;
    },
  );
  return out;
};

describe('PublisherLane wait budget', () => {
  it('a retry waits for a channel only for what is left of timeoutMs', async () => {
    const { clock, lane, grant } = rig(1_000);
    const outcome = settledAt(clock, lane.publish('', 'q', Buffer.from('x')));
    await clock.tick(600); // no channel yet: 600 ms of the budget spent waiting
    const pc = await grant(); // written now
    await clock.tick(100);
    loseConnection(pc); // its connection died before the confirm: retried, no channel to be had
    await clock.tick(399);
    expect(outcome.at).toBeUndefined();
    await clock.tick(2);
    // 600 + 400 ms of waiting for a channel (the 100 ms in flight do not count); not 700 + 1000.
    expect(outcome.at).toBe(1_100);
    // It was written once: the outcome is unknown, and the error says so.
    expect(outcome.error).toBeInstanceOf(PublishUnconfirmedError);
    expect((outcome.error as PublishUnconfirmedError).cause).toBeInstanceOf(AcquireTimeoutError);
    lane.close();
  });

  it('a publish written at once keeps its whole budget for the retry', async () => {
    const { clock, lane, grant } = rig(1_000);
    const first = lane.publish('', 'q', Buffer.from('warm-up'));
    void first.catch(() => undefined);
    const pc = await grant();
    const outcome = settledAt(clock, lane.publish('', 'q', Buffer.from('x')));
    await clock.tick(500);
    loseConnection(pc);
    await clock.tick(999);
    expect(outcome.at).toBeUndefined();
    await clock.tick(2);
    expect(outcome.at).toBe(1_500); // death at 500 + the whole 1000
    expect(outcome.error).toBeInstanceOf(PublishUnconfirmedError);
    lane.close();
  });

  it('a publish never written fails with a plain AcquireTimeoutError at its deadline', async () => {
    const { clock, lane } = rig(1_000);
    const outcome = settledAt(clock, lane.publish('', 'q', Buffer.from('x')));
    await clock.tick(1_001);
    expect(outcome.at).toBe(1_000);
    expect(outcome.error).toBeInstanceOf(AcquireTimeoutError);
    expect((outcome.error as AcquireTimeoutError).cause).toBeInstanceOf(Error);
    lane.close();
  });
});

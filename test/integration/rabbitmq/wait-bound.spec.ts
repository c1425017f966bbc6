import { describe, expect, it } from 'vitest';
import { PoolExhaustedError } from '../../../lib/core/errors/pool-exhausted.error.js';
import type { ChannelLease } from '../../../lib/rabbitmq/channel-lease.js';
import { RabbitMqPool } from '../../../lib/rabbitmq/index.js';
import { amqpUrl } from '../../support/broker-env.js';
import { sleep, uniqueName } from './support/rabbitmq-admin.js';

/**
 * `maxWaiting` is ONE bound for the pool: publishes queued in the publisher lane and
 * `acquire()`/`withChannel()` callers queued in the channel pool count against the same number.
 * (It used to be one `maxWaiting` for each, so up to twice the configured number waited.) The
 * lane's own request for a channel waits in the channel pool and counts too; as in the core pool,
 * the publishes the lane can write the moment a channel arrives (`maxInFlightPerChannel: 1` here:
 * one) are not refused for it.
 */
describe('one maxWaiting for publishes and leases (real broker)', () => {
  const MAX_WAITING = 4;

  function saturatedPool(tag: string): RabbitMqPool {
    return new RabbitMqPool(
      {
        url: amqpUrl(),
        connectionName: uniqueName(tag),
        connections: 1,
        channelsPerConnection: 2,
        maxWaiting: MAX_WAITING,
        maxInFlightPerChannel: 1,
        acquireTimeoutMs: 5_000,
      },
      { name: tag },
    );
  }

  /** Settles each promise into 'ok' | 'exhausted' | 'other' without unhandled rejections. */
  function track(promises: Array<Promise<unknown>>): Array<() => string | undefined> {
    return promises.map((p) => {
      let outcome: string | undefined;
      p.then(
        () => (outcome = 'ok'),
        (e: unknown) => (outcome = e instanceof PoolExhaustedError ? 'exhausted' : 'other'),
      );
      return () => outcome;
    });
  }

  it('publishes first: once they fill maxWaiting, further publishes AND acquires fail at once', async () => {
    const pool = saturatedPool('it-bound-pub');
    const q = uniqueName('bound-q');
    let held: ChannelLease[] = [];
    try {
      held = [await pool.acquire(), await pool.acquire()]; // every channel leased
      await held[0]!.channel.assertQueue(q, { durable: false, autoDelete: false });
      const publishes = Array.from({ length: MAX_WAITING + 3 }, (_, i) =>
        pool.sendToQueue(q, Buffer.from(`m${i}`)),
      );
      const outcomes = track(publishes);
      await sleep(50);
      const extraAcquire = track([pool.acquire({ timeoutMs: 2_000 })])[0]!;
      await sleep(50);
      // maxWaiting publishes queue; the rest, and the acquire that came after them, are refused:
      // the lane has no bound of its own (it used to take maxWaiting publishes, then the pool
      // another maxWaiting acquires).
      const now = outcomes.map((o) => o());
      expect(now.slice(0, MAX_WAITING)).toEqual(Array(MAX_WAITING).fill(undefined));
      expect(now.slice(MAX_WAITING)).toEqual(['exhausted', 'exhausted', 'exhausted']);
      expect(extraAcquire()).toBe('exhausted');
      expect(pool.stats().publisher.waiting).toBe(MAX_WAITING);

      // Capacity comes back: the queued publishes all go through, in order, confirmed.
      held[1]!.release();
      await Promise.all(publishes.slice(0, MAX_WAITING));
      held[0]!.release(); // the lane keeps the other channel
      await pool.withChannel(async (ch) => {
        const { messageCount } = await ch.checkQueue(q);
        expect(messageCount).toBe(MAX_WAITING);
      });
    } finally {
      for (const l of held) l.release();
      await pool.withChannel((ch) => ch.deleteQueue(q)).catch(() => undefined);
      await pool.close();
    }
  });

  it('acquires first: once they fill maxWaiting, publishes are refused beyond the one the lane serves at once', async () => {
    const pool = saturatedPool('it-bound-acq');
    let held: ChannelLease[] = [];
    try {
      held = [await pool.acquire(), await pool.acquire()];
      const acquires = Array.from({ length: MAX_WAITING + 1 }, () =>
        pool.acquire({ timeoutMs: 2_000 }),
      );
      const acquired = track(acquires);
      await sleep(50);
      expect(acquired.map((o) => o())).toEqual([
        ...Array(MAX_WAITING).fill(undefined),
        'exhausted',
      ]);
      const publishes = Array.from({ length: 3 }, (_, i) =>
        pool.publish('amq.direct', 'nowhere', Buffer.from(`m${i}`)),
      );
      const published = track(publishes);
      await sleep(50);
      // Before: the lane had maxWaiting of its own, and all three would have queued.
      expect(published.map((o) => o())).toEqual([undefined, 'exhausted', 'exhausted']);
      for (const l of held) l.release();
      held = [];
      // Each queued acquire is served in turn (released at once, so the next one gets a channel).
      await Promise.all(acquires.slice(0, MAX_WAITING).map((p) => p.then((l) => l.release())));
      await publishes[0];
    } finally {
      for (const l of held) l.release();
      await pool.close();
    }
  });
});

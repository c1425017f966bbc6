import { describe, expect, it } from 'vitest';

import { AcquireTimeoutError } from '../../../lib/core/errors/acquire-timeout.error.js';
import { PoolExhaustedError } from '../../../lib/core/errors/pool-exhausted.error.js';
import { WaiterQueue } from '../../../lib/core/waiter-queue.js';
import { flush } from '../core/support/fake-clock.js';
import { outcomeOf, rig } from './support/lane-rig.js';

/**
 * The lane as a client of the channel pool, on fake time: its queued publishes count against the
 * pool's one wait bound, and it keeps no retry loop of its own for channels (the connection slots
 * own the reconnect timing).
 */
describe('PublisherLane: waiting publishes in the pool wait bound', () => {
  it('counts its queued publishes in the bound and refuses one that would overfill it', async () => {
    const { lane, waitBound, errors } = rig({ maxWaiting: 10 });
    // Callers already waiting in the channel pool, 9 of them; the lane could write 8 at once
    // (maxInFlightPerChannel) once it has its channel, so 8 more publishes are not "waiting".
    const poolWaiters = new WaiterQueue<{ queued: boolean }>();
    for (let i = 0; i < 9; i++) poolWaiters.push({ queued: false });
    waitBound.join(poolWaiters);
    const outcomes = Array.from({ length: 10 }, (_, i) =>
      outcomeOf(lane.publish('', 'q', Buffer.from(`m${i}`))),
    );
    await flush();
    expect(lane.stats().waiting).toBe(9);
    expect(waitBound.waiting).toBe(18);
    expect(outcomes.slice(0, 9).every((o) => !o.done)).toBe(true);
    expect(outcomes[9]!.error).toBeInstanceOf(PoolExhaustedError);
    expect(errors).toEqual(['exhausted']);
    lane.close();
  });
});

describe('PublisherLane: no retry loop of its own for channels', () => {
  it('asks again at once when its request waited out its timeout while publishes wait', async () => {
    const { lane, pending, deny, grant } = rig({ timeoutMs: 10_000 });
    const waiting = outcomeOf(lane.publish('', 'q', Buffer.from('x')));
    await flush();
    expect(pending).toHaveLength(1);
    await deny(new AcquireTimeoutError({ pool: 'test', timeoutMs: 1_000, stats: statsOf() }));
    expect(pending).toHaveLength(1); // asked again, no timer in between
    const { ch } = await grant();
    expect(ch.sent).toHaveLength(1);
    ch.ack(0);
    await flush();
    expect(waiting).toEqual({ done: true });
    lane.close();
  });

  it('after a refusal that came at once, asks again only at the next publish or wake(), never on a timer', async () => {
    const { clock, lane, pending, deny } = rig({ timeoutMs: 60_000 });
    void lane.publish('', 'q', Buffer.from('x')).catch(() => undefined);
    await flush();
    await deny(new Error('refused at once'));
    expect(pending).toHaveLength(0);
    await clock.tick(30_000);
    expect(pending).toHaveLength(0); // no backoff timer of the lane's own
    lane.wake(); // a connection came up or was unblocked
    await flush();
    expect(pending).toHaveLength(1);
    await deny(new Error('refused at once'));
    void lane.publish('', 'q', Buffer.from('y')).catch(() => undefined);
    await flush();
    expect(pending).toHaveLength(1);
    lane.close();
  });

  it('does not ask for channels while nobody publishes', async () => {
    const { clock, lane, pending, deny } = rig();
    void lane.publish('', 'q', Buffer.from('x'), { timeoutMs: 10 }).catch(() => undefined);
    await flush();
    await clock.tick(11); // the publish gave up
    await deny(new AcquireTimeoutError({ pool: 'test', timeoutMs: 1_000, stats: statsOf() }));
    await clock.tick(60_000);
    expect(pending).toHaveLength(0);
    lane.close();
  });
});

function statsOf() {
  return {
    max: 1,
    size: 1,
    idle: 0,
    leased: 1,
    creating: 0,
    validating: 0,
    waiting: 1,
    leaks: 0,
    draining: false,
    closed: false,
  };
}

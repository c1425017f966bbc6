import { describe, expect, it } from 'vitest';

import { AcquireTimeoutError } from '../../../lib/core/errors/acquire-timeout.error.js';
import { PublishUnconfirmedError } from '../../../lib/rabbitmq/errors/publish-unconfirmed.error.js';
import { loseConnection, outcomeOf, rig } from './support/lane-rig.js';

/**
 * The lane's deadline arithmetic, on fake time: how long a publish may wait for a channel over its
 * attempts. Channels arrive only when the test grants them, like a pool whose broker is away.
 */
describe('PublisherLane wait budget', () => {
  const refused = () => new Error('connect ECONNREFUSED');

  it('a retry waits for a channel only for what is left of timeoutMs', async () => {
    const { clock, lane, grant } = rig({ timeoutMs: 1_000, lastFailure: refused });
    const outcome = outcomeOf(lane.publish('', 'q', Buffer.from('x')), clock);
    await clock.tick(600); // no channel yet: 600 ms of the budget spent waiting
    const { pc } = await grant(); // written now
    await clock.tick(100);
    loseConnection(pc); // its connection died before the confirm: retried, no channel to be had
    await clock.tick(399);
    expect(outcome.done).toBe(false);
    await clock.tick(2);
    // 600 + 400 ms of waiting for a channel (the 100 ms in flight do not count); not 700 + 1000.
    expect(outcome.at).toBe(1_100);
    // It was written once: the outcome is unknown, and the error says so.
    expect(outcome.error).toBeInstanceOf(PublishUnconfirmedError);
    expect((outcome.error as PublishUnconfirmedError).cause).toBeInstanceOf(AcquireTimeoutError);
    lane.close();
  });

  it('a publish written at once keeps its whole budget for the retry', async () => {
    const { clock, lane, open } = rig({ timeoutMs: 1_000, lastFailure: refused });
    const { pc } = await open();
    const outcome = outcomeOf(lane.publish('', 'q', Buffer.from('x')), clock);
    await clock.tick(500);
    loseConnection(pc);
    await clock.tick(999);
    expect(outcome.done).toBe(false);
    await clock.tick(2);
    expect(outcome.at).toBe(1_500); // death at 500 + the whole 1000
    expect(outcome.error).toBeInstanceOf(PublishUnconfirmedError);
    lane.close();
  });

  it('a publish never written fails with a plain AcquireTimeoutError at its deadline', async () => {
    const { clock, lane } = rig({ timeoutMs: 1_000, lastFailure: refused });
    const outcome = outcomeOf(lane.publish('', 'q', Buffer.from('x')), clock);
    await clock.tick(1_001);
    expect(outcome.at).toBe(1_000);
    expect(outcome.error).toBeInstanceOf(AcquireTimeoutError);
    expect((outcome.error as AcquireTimeoutError).cause).toBeInstanceOf(Error);
    lane.close();
  });
});

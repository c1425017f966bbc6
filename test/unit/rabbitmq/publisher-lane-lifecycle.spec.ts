import type { ConfirmChannel } from 'amqplib';
import { describe, expect, it } from 'vitest';

import { AcquireTimeoutError } from '../../../lib/core/errors/acquire-timeout.error.js';
import { PoolClosedError } from '../../../lib/core/errors/pool-closed.error.js';
import { PublishUnconfirmedError } from '../../../lib/rabbitmq/errors/publish-unconfirmed.error.js';
import { UnroutableMessageError } from '../../../lib/rabbitmq/errors/unroutable-message.error.js';
import type { ConnectionSlot } from '../../../lib/rabbitmq/connection-slot.js';
import { PooledChannel } from '../../../lib/rabbitmq/pooled-channel.js';
import type { PublisherLane } from '../../../lib/rabbitmq/publisher-lane.js';
import {
  FakeChannel,
  illegalOperation,
  loseConnection,
  outcomeOf,
  retireInFakePool,
  rig,
} from './support/lane-rig.js';
import { flush } from '../core/support/fake-clock.js';

/**
 * How the lane treats its channels and its queue, on fake time with stand-in channels: what a dead
 * channel's lease becomes, what a synchronous throw of `publish` means, basic.return matching, the
 * wait queue's memory, close() errors and wake(). The real-broker side is in
 * test/integration/rabbitmq/publish-isolation.spec.ts.
 */

/** The array behind the lane's wait queue (the core's WaiterQueue): what it keeps alive. */
const queueOf = (lane: PublisherLane) =>
  (lane as unknown as { queue: { items: unknown[] } }).queue.items;

describe('PublisherLane: synchronous throws of publish', () => {
  it('a message amqplib refuses to encode fails at once with that error; the channel stays and keeps publishing', async () => {
    const { lane, open, errors, pending } = rig();
    const { ch, lease } = await open();
    const bad = outcomeOf(
      lane.publish('', 'q', 'x', { headers: { bad: Symbol('s') as unknown as string } }),
    );
    await flush();
    expect(bad.error).toBeInstanceOf(TypeError);
    expect(errors).toEqual(['invalid']);
    // Not treated as a dead channel: no destroy, no release, no new acquire.
    expect(lease.destroyed).toEqual([]);
    expect(lease.released).toBe(0);
    expect(pending).toHaveLength(0);
    const good = outcomeOf(lane.publish('', 'q', Buffer.from('next')));
    expect(ch.sent.map((s) => s.body.toString())).toEqual(['next']);
    ch.ack(0);
    await flush();
    expect(good).toEqual({ done: true });
    lane.close();
  });

  it('a closed-channel throw (IllegalOperationError) retries the publish on another channel and destroys the dead one', async () => {
    const { lane, grant, open } = rig();
    const first = await open();
    first.ch.throwing = illegalOperation('Channel closed');
    const outcome = outcomeOf(lane.publish('', 'q', Buffer.from('x')));
    await flush();
    expect(outcome.done).toBe(false);
    expect(first.lease.destroyed).toHaveLength(1);
    expect(first.lease.released).toBe(0);
    const second = await grant();
    expect(second.ch.sent).toHaveLength(1);
    second.ch.ack(0);
    await flush();
    expect(outcome).toEqual({ done: true });
    lane.close();
  });
});

describe('PublisherLane: leases of dead channels', () => {
  it('a publishing channel that closed is destroyed, not released back to the pool as idle', async () => {
    const { lane, open } = rig();
    const { pc, lease } = await open();
    const cause = new Error('404 NOT_FOUND');
    pc.markClosed(cause);
    expect(lease.released).toBe(0);
    expect(lease.destroyed).toEqual([cause]);
    lane.close();
  });

  it('a live channel is released on close()', async () => {
    const { lane, open } = rig();
    const { lease } = await open();
    lane.close();
    expect(lease.released).toBe(1);
    expect(lease.destroyed).toEqual([]);
  });

  it('rotating the same pooled channel again and again leaves one close listener on it', async () => {
    const { clock, lane, grant, open } = rig({ rotateAfterMs: 100 });
    const { pc } = await open();
    for (let i = 0; i < 20; i++) {
      await clock.tick(100); // rotated out (nothing in flight): released, a new lease asked for
      await grant(pc); // the pool hands the same idle channel back
    }
    const listeners = (pc as unknown as { closeListeners: unknown[] }).closeListeners;
    expect(listeners).toHaveLength(1);
    lane.close();
    expect(listeners).toHaveLength(0);
  });
});

describe('PooledChannel.markClosed', () => {
  it('retires the channel in the pool before any close listener runs', () => {
    const order: string[] = [];
    const pc = new PooledChannel({} as ConfirmChannel, {} as ConnectionSlot, 1, () =>
      order.push('retired'),
    );
    pc.onClose(() => order.push('listener'));
    expect(pc.markClosed(new Error('404'))).toBe(true);
    expect(pc.markClosed(undefined)).toBe(false);
    expect(order).toEqual(['retired', 'listener']);
  });
});

describe('PooledChannel.onClose', () => {
  it('returns an unsubscribe', () => {
    const pc = new PooledChannel({} as ConfirmChannel, {} as ConnectionSlot, 1);
    const calls: string[] = [];
    const off = pc.onClose(() => calls.push('a'));
    pc.onClose(() => calls.push('b'));
    off();
    off();
    pc.markClosed(undefined);
    expect(calls).toEqual(['b']);
    pc.onClose(() => calls.push('late'))();
    expect(calls).toEqual(['b', 'late']);
  });
});

describe('PublisherLane: mandatory returns', () => {
  const mandatory = (id: string) => ({ mandatory: true, messageId: id });

  it('two in-flight publishes with one messageId: the return fails the returned one, not the other', async () => {
    const { lane, open } = rig();
    const { ch } = await open();
    const a = outcomeOf(lane.publish('', 'nowhere', Buffer.from('a'), mandatory('evt-1')));
    const b = outcomeOf(lane.publish('', 'q', Buffer.from('b'), mandatory('evt-1')));
    ch.returnSent(0);
    ch.ack(0);
    ch.ack(1);
    await flush();
    expect(a.error).toBeInstanceOf(UnroutableMessageError);
    expect(b).toEqual({ done: true });
    lane.close();
  });

  it('the return of a later same-id publish is not pinned on an earlier one still awaiting its ack', async () => {
    const { lane, open } = rig();
    const { ch } = await open();
    const a = outcomeOf(lane.publish('', 'q', Buffer.from('a'), mandatory('evt-1')));
    const b = outcomeOf(lane.publish('', 'nowhere', Buffer.from('b'), mandatory('evt-1')));
    // Acks may come out of order: b is unroutable (returned and acked at once), a is still being stored.
    ch.returnSent(1);
    ch.ack(1);
    ch.ack(0);
    await flush();
    expect(b.error).toBeInstanceOf(UnroutableMessageError);
    expect(a).toEqual({ done: true });
    lane.close();
  });

  it('a return of a first attempt does not fail the retry the broker routed', async () => {
    const { lane, grant, open } = rig();
    const first = await open();
    const outcome = outcomeOf(lane.publish('', 'q', Buffer.from('x'), mandatory('evt-2')));
    first.ch.returnSent(0); // returned (say, the queue was being re-declared)...
    loseConnection(first.pc); // ...and the channel died before the ack: retried
    // On another connection (the retry avoids the one that was lost).
    const slot2 = { blocked: false, isUp: true, generation: 1 } as unknown as ConnectionSlot;
    const second = await grant(
      new PooledChannel(new FakeChannel() as unknown as ConfirmChannel, slot2, 1, retireInFakePool),
    );
    second.ch.ack(0);
    await flush();
    expect(outcome).toEqual({ done: true });
    lane.close();
  });
});

describe('PublisherLane: wait queue', () => {
  it('publishes that expired while no channel exists are not kept (nor their bodies)', async () => {
    const { clock, lane } = rig({ timeoutMs: 50 });
    const outcomes = Array.from({ length: 500 }, () =>
      outcomeOf(lane.publish('', 'q', Buffer.alloc(1_000))),
    );
    expect(queueOf(lane)).toHaveLength(500);
    await clock.tick(51);
    expect(outcomes.every((o) => o.error instanceof AcquireTimeoutError)).toBe(true);
    expect(queueOf(lane)).toHaveLength(0);
    lane.close();
  });

  it('is compacted when most of it expired while one long wait stays, and the long one is still written', async () => {
    const { clock, lane, grant } = rig({ timeoutMs: 50 });
    const long = outcomeOf(lane.publish('', 'q', Buffer.from('long'), { timeoutMs: 10_000 }));
    for (let i = 0; i < 1_000; i++) void lane.publish('', 'q', Buffer.alloc(1_000)).catch(() => 0);
    await clock.tick(51);
    expect(queueOf(lane).length).toBeLessThan(100);
    expect(lane.stats().waiting).toBe(1);
    const { ch } = await grant();
    expect(ch.sent.map((s) => s.body.toString())).toEqual(['long']);
    ch.ack(0);
    await flush();
    expect(long).toEqual({ done: true });
    lane.close();
  });

  it('close() rejects a waiting retry that was written before with PublishUnconfirmedError, not a plain PoolClosedError', async () => {
    const { lane, open } = rig();
    const { pc } = await open();
    const retried = outcomeOf(lane.publish('', 'q', Buffer.from('x')));
    const fresh = outcomeOf(lane.publish('', 'q', Buffer.from('y')));
    loseConnection(pc); // both were written: both wait for a channel to be retried on
    const never = outcomeOf(lane.publish('', 'q', Buffer.from('z')));
    await flush();
    lane.close();
    await flush();
    for (const o of [retried, fresh]) {
      expect(o.error).toBeInstanceOf(PublishUnconfirmedError);
      expect((o.error as PublishUnconfirmedError).cause).toBeInstanceOf(PoolClosedError);
    }
    expect(never.error).toBeInstanceOf(PoolClosedError);
  });
});

describe('PublisherLane.wake', () => {
  it('writes publishes that queued behind a blocked connection once it is unblocked', async () => {
    const { lane, open, slot } = rig();
    const { ch } = await open();
    slot.blocked = true;
    const outcomes = [1, 2, 3].map((i) => outcomeOf(lane.publish('', 'q', Buffer.from(`${i}`))));
    await flush();
    expect(ch.sent).toHaveLength(0);
    expect(lane.stats().waiting).toBe(3);
    slot.blocked = false;
    await flush();
    expect(ch.sent).toHaveLength(0); // nothing else pumps the queue
    lane.wake();
    expect(ch.sent.map((s) => s.body.toString())).toEqual(['1', '2', '3']);
    expect(lane.stats().waiting).toBe(0);
    for (let i = 0; i < 3; i++) ch.ack(i);
    await flush();
    expect(outcomes.every((o) => o.done && o.error === undefined)).toBe(true);
    lane.close();
  });

  it('is a no-op with nothing waiting or once closed', async () => {
    const { lane, open } = rig();
    await open();
    lane.wake();
    lane.close();
    lane.wake();
    expect(lane.stats()).toEqual({ channels: 0, inFlight: 0, waiting: 0 });
  });
});

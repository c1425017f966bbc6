import { describe, expect, it } from 'vitest';
import { waitBeforeRetry } from '../../../lib/kafka/retry-wait.js';
import { FakeClock } from '../core/support/fake-clock.js';

function rig(heartbeat: () => Promise<void> = async () => undefined) {
  const clock = new FakeClock();
  const controller = new AbortController();
  const beats: number[] = [];
  const stopped = new Error('stopped');
  const wait = (ms: number) =>
    waitBeforeRetry(ms, {
      clock,
      signal: controller.signal,
      heartbeat: () => {
        beats.push(clock.now());
        return heartbeat();
      },
      heartbeatEveryMs: 1_000,
      onAbort: () => stopped,
    });
  return { clock, controller, beats, stopped, wait };
}

/** The promise's state after pending callbacks ran. */
async function state(p: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  let s: 'pending' | 'resolved' | 'rejected' = 'pending';
  p.then(
    () => (s = 'resolved'),
    () => (s = 'rejected'),
  );
  await new Promise((r) => setImmediate(r));
  return s;
}

describe('waitBeforeRetry', () => {
  it('waits the whole delay, heartbeating every interval in between', async () => {
    const { clock, beats, wait } = rig();
    const done = wait(3_500);
    await clock.tick(3_499);
    expect(await state(done)).toBe('pending');
    await clock.tick(1);
    expect(await state(done)).toBe('resolved');
    expect(beats).toEqual([1_000, 2_000, 3_000]);
  });

  it('ends at once with onAbort() when the consumer stops, and never heartbeats after', async () => {
    const { clock, controller, beats, stopped, wait } = rig();
    const done = wait(60_000);
    await clock.tick(1_500);
    controller.abort();
    await expect(done).rejects.toBe(stopped);
    await clock.tick(5_000);
    expect(beats).toEqual([1_000]);
    expect(clock.pendingCount(0)).toBe(0);
  });

  it('does not wait at all when already stopping', async () => {
    const { controller, stopped, wait } = rig();
    controller.abort();
    await expect(wait(1_000)).rejects.toBe(stopped);
  });

  it('rejects with a failed heartbeat (a rebalance: the partition may be leaving)', async () => {
    const rebalancing = new Error('The group is rebalancing');
    const { clock, wait } = rig(async () => {
      throw rebalancing;
    });
    const done = wait(10_000);
    const settled = expect(done).rejects.toBe(rebalancing);
    await clock.tick(1_000);
    await settled;
  });

  it('resolves at once for a zero delay', async () => {
    const { wait, beats } = rig();
    await expect(wait(0)).resolves.toBeUndefined();
    expect(beats).toEqual([]);
  });
});

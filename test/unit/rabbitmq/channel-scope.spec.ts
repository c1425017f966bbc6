import type { ConfirmChannel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import type { ChannelLease } from '../../../lib/rabbitmq/channel-lease.js';
import { ChannelScope } from '../../../lib/rabbitmq/channel-scope.js';

function fakeLease(): ChannelLease & { released: number; kill(): void } {
  const channel = {} as ConfirmChannel;
  let alive = true;
  const lease = {
    released: 0,
    get channel() {
      return channel;
    },
    get alive() {
      return alive;
    },
    kill() {
      alive = false;
    },
    release() {
      lease.released++;
    },
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  return lease;
}

describe('ChannelScope', () => {
  it('takes one lease lazily, shares it with concurrent users, and releases it on end()', async () => {
    const made: ReturnType<typeof fakeLease>[] = [];
    const scope = new ChannelScope(async () => {
      const l = fakeLease();
      made.push(l);
      return l;
    });
    expect(scope.channel).toBeUndefined();
    const [a, b] = await Promise.all([scope.obtain(), scope.obtain()]);
    expect(a).toBe(b);
    expect(made).toHaveLength(1);
    expect(scope.channel).toBe(a.channel);
    scope.end();
    scope.end();
    expect(made[0]?.released).toBe(1);
    await expect(scope.obtain()).rejects.toThrow(/ended/);
  });

  it('replaces a lease the broker killed', async () => {
    const made: ReturnType<typeof fakeLease>[] = [];
    const scope = new ChannelScope(async () => {
      const l = fakeLease();
      made.push(l);
      return l;
    });
    const first = await scope.obtain();
    made[0]?.kill();
    expect(scope.channel).toBeUndefined();
    const second = await scope.obtain();
    expect(second).not.toBe(first);
    expect(made[0]?.released).toBe(1);
    scope.end();
    expect(made[1]?.released).toBe(1);
  });

  it('never releases a lease the caller handed in', async () => {
    const given = fakeLease();
    const scope = new ChannelScope(
      () => Promise.reject(new Error('must not acquire')),
      given,
      false,
    );
    expect(await scope.obtain()).toBe(given);
    scope.end();
    expect(given.released).toBe(0);
    const dead = fakeLease();
    dead.kill();
    await expect(
      new ChannelScope(() => Promise.reject(new Error('no')), dead, false).obtain(),
    ).rejects.toThrow(/closed by the broker/);
  });

  it('releases a lease that arrives after the scope ended', async () => {
    let resolve!: (l: ChannelLease) => void;
    const scope = new ChannelScope(() => new Promise<ChannelLease>((r) => (resolve = r)));
    const pending = scope.obtain();
    scope.end();
    const late = fakeLease();
    resolve(late);
    await expect(pending).rejects.toThrow(/ended while acquiring/);
    expect(late.released).toBe(1);
  });
});

import type { ConfirmChannel } from 'amqplib';
import { describe, expect, it } from 'vitest';
import {
  ChannelScope,
  type LeaseSource,
  type ScopeLease,
  withChannel,
} from '../../../lib/rabbitmq/channel-scope.js';

type FakeLease = ScopeLease & { released: number; destroyed: unknown[]; kill(): void };

function fakeLease(): FakeLease {
  const channel = {} as ConfirmChannel;
  let alive = true;
  const lease: FakeLease = {
    released: 0,
    destroyed: [],
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
    destroy(reason: unknown) {
      lease.destroyed.push(reason);
      return Promise.resolve();
    },
    [Symbol.asyncDispose]: () => Promise.resolve(),
  };
  return lease;
}

/** A lease source that makes fresh fake leases and remembers them. */
function source(): LeaseSource & { made: FakeLease[] } {
  const made: FakeLease[] = [];
  return {
    made,
    acquire: async () => {
      const l = fakeLease();
      made.push(l);
      return l;
    },
  };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('ChannelScope', () => {
  it('takes one lease lazily, shares it with concurrent users, and releases it on end()', async () => {
    const src = source();
    const scope = new ChannelScope(src);
    expect(scope.channel).toBeUndefined();
    const [a, b] = await Promise.all([scope.obtain(), scope.obtain()]);
    expect(a).toBe(b);
    expect(src.made).toHaveLength(1);
    expect(scope.channel).toBe(a.channel);
    scope.end();
    scope.end();
    expect(src.made[0]?.released).toBe(1);
    await expect(scope.obtain()).rejects.toThrow(/ended/);
  });

  it('replaces a lease the broker killed', async () => {
    const src = source();
    const scope = new ChannelScope(src);
    const first = await scope.obtain();
    src.made[0]?.kill();
    expect(scope.channel).toBeUndefined();
    const second = await scope.obtain();
    expect(second).not.toBe(first);
    expect(src.made[0]?.released).toBe(1);
    scope.end();
    expect(src.made[1]?.released).toBe(1);
  });

  it('abandon() destroys the held lease instead of releasing it', async () => {
    const src = source();
    const scope = new ChannelScope(src);
    await scope.obtain();
    const why = new Error('client gone');
    await scope.abandon(why);
    expect(src.made[0]?.destroyed).toEqual([why]);
    expect(src.made[0]?.released).toBe(0);
    expect(scope.isAbandoned).toBe(true);
    scope.end(); // no-op after abandon
    expect(src.made[0]?.released).toBe(0);
  });

  it('releases a lease that arrives after the scope ended, and reports the wait while it lasts', async () => {
    let resolve!: (l: ScopeLease) => void;
    const scope = new ChannelScope({
      acquire: () => new Promise<ScopeLease>((r) => (resolve = r)),
    });
    const pending = scope.obtain();
    expect(scope.waiting).toBe(true);
    scope.end();
    const late = fakeLease();
    resolve(late);
    await expect(pending).rejects.toThrow(/ended while acquiring/);
    expect(scope.waiting).toBe(false);
    expect(late.released).toBe(1);
  });
});

describe('channel scopes in the async context (one storage for every pool and the request)', () => {
  it("keeps each pool's innermost scope apart across awaits", async () => {
    const [poolA, poolB] = [source(), source()];
    const [a1, a2, b1] = [
      new ChannelScope(poolA),
      new ChannelScope(poolA),
      new ChannelScope(poolB),
    ];
    const seen: unknown[] = [];
    await ChannelScope.runAll([a1, b1], async () => {
      await tick();
      seen.push(ChannelScope.current(poolA), ChannelScope.current(poolB));
      await a2.run(async () => {
        await tick();
        seen.push(ChannelScope.current(poolA), ChannelScope.current(poolB));
      });
      seen.push(ChannelScope.current(poolA));
    });
    expect(seen).toEqual([a1, b1, a2, b1, a1]);
    expect(ChannelScope.current(poolA)).toBeUndefined();
  });

  it('concurrent contexts never see each other', async () => {
    const pool = source();
    const scopes = Array.from({ length: 20 }, () => new ChannelScope(pool));
    const results = await Promise.all(
      scopes.map((scope) =>
        scope.run(async () => {
          await tick();
          return ChannelScope.current(pool);
        }),
      ),
    );
    expect(results).toEqual(scopes);
  });

  it('withChannel() is re-entrant inside a scope and takes (and releases) its own lease outside one', async () => {
    const pool = source();
    const outer = await withChannel(pool, async (ch) => {
      const inner = await withChannel(pool, async (c) => c);
      expect(inner).toBe(ch);
      return ch;
    });
    expect(outer).toBe(pool.made[0]?.channel);
    expect(pool.made).toHaveLength(1);
    expect(pool.made[0]?.released).toBe(1);
    expect(ChannelScope.current(pool)).toBeUndefined();
  });
});

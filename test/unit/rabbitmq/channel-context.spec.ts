import { describe, expect, it } from 'vitest';
import {
  currentTag,
  runInScope,
  runTagged,
  scopeOf,
} from '../../../lib/rabbitmq/channel-context.js';
import type { ChannelScope } from '../../../lib/rabbitmq/channel-scope.js';

const scope = (label: string): ChannelScope => ({ label }) as unknown as ChannelScope;
const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('channel context (one async-context storage for every pool and the request)', () => {
  it("keeps each owner's innermost scope apart, and carries the tag down into nested scopes", async () => {
    const poolA = {};
    const poolB = {};
    const [a1, a2, b1] = [scope('a1'), scope('a2'), scope('b1')];
    const seen: unknown[] = [];
    await runInScope(poolA, a1, () =>
      runTagged('request-1', () =>
        runInScope(poolB, b1, async () => {
          await tick();
          seen.push(scopeOf(poolA), scopeOf(poolB), currentTag());
          await runInScope(poolA, a2, async () => {
            await tick();
            seen.push(scopeOf(poolA), scopeOf(poolB), currentTag());
          });
          seen.push(scopeOf(poolA));
        }),
      ),
    );
    expect(seen).toEqual([a1, b1, 'request-1', a2, b1, 'request-1', a1]);
    expect([scopeOf(poolA), currentTag()]).toEqual([undefined, undefined]);
  });

  it('concurrent contexts never see each other', async () => {
    const pool = {};
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        runTagged(i, () =>
          runInScope(pool, scope(`s${i}`), async () => {
            await tick();
            return [currentTag(), (scopeOf(pool) as unknown as { label: string }).label];
          }),
        ),
      ),
    );
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => [i, `s${i}`]));
  });
});

import { describe, expect, it } from 'vitest';

import { InvalidPoolOptionsError } from '../../../lib/core/errors/invalid-pool-options.error.js';
import { checkRetryPolicy, retryDelayMs } from '../../../lib/core/handler-retry-policy.js';

describe('handler retry policy', () => {
  it('gives the delay before each retry, the last listed delay repeating', () => {
    expect(retryDelayMs({ attempts: 5, delayMs: 250 }, 3)).toBe(250);
    const stepped = { attempts: 5, delayMs: [100, 1000] };
    expect([1, 2, 3, 4].map((a) => retryDelayMs(stepped, a))).toEqual([100, 1000, 1000, 1000]);
  });

  it('accepts a fixed delay or a list, and nothing at all', () => {
    expect(checkRetryPolicy(undefined, 'r')).toBeUndefined();
    expect(checkRetryPolicy({ attempts: 3 }, 'r')).toEqual({ attempts: 3, delayMs: 0 });
    expect(checkRetryPolicy({ attempts: 3, delayMs: [10, 20] }, 'r')).toEqual({
      attempts: 3,
      delayMs: [10, 20],
    });
  });

  it.each([
    [{ delayMs: 10 }, 'r.attempts'],
    [{ attempts: 0 }, 'r.attempts'],
    [{ attempts: 2.5 }, 'r.attempts'],
    [{ attempts: 3, delayMs: -1 }, 'r.delayMs'],
    [{ attempts: 3, delayMs: [] }, 'r.delayMs'],
    [{ attempts: 3, delayMs: [10, 'x'] }, 'r.delayMs.1'],
    [{ attempts: 3, backoff: 2 }, 'r.backoff'],
    ['3', 'r'],
  ])('rejects %j naming %s', (value, key) => {
    expect(() => checkRetryPolicy(value, 'r')).toThrow(InvalidPoolOptionsError);
    try {
      checkRetryPolicy(value, 'r');
    } catch (error) {
      expect((error as InvalidPoolOptionsError).key).toBe(key);
    }
  });
});

import { describe, expect, it } from 'vitest';

import { pendingPromise, type Settlers } from '../../../lib/core/settlers.js';

class Holder<T> implements Settlers<T> {
  resolve: (value: T) => void = () => undefined;
  reject: (reason: unknown) => void = () => undefined;
}

describe('pendingPromise', () => {
  it('stores each promise’s own settle functions on its holder', async () => {
    const a = new Holder<string>();
    const b = new Holder<string>();
    const pa = pendingPromise(a);
    const pb = pendingPromise(b);
    expect(a.resolve).not.toBe(b.resolve);
    b.resolve('b');
    a.reject(new Error('a'));
    await expect(pb).resolves.toBe('b');
    await expect(pa).rejects.toThrow('a');
  });

  it('keeps promises independent when created back to back', async () => {
    const holders = Array.from({ length: 100 }, () => new Holder<number>());
    const promises = holders.map((h) => pendingPromise(h));
    holders.forEach((h, i) => h.resolve(i));
    expect(await Promise.all(promises)).toEqual(holders.map((_, i) => i));
  });
});

import { describe, expect, it } from 'vitest';
import {
  holdProcessOpen,
  keepAliveUntilSettled,
  processHolders,
} from '../../../lib/core/keep-process-alive.js';

// That a held process really stays alive is proven where it matters, in child processes
// (test/e2e/startup-failure.e2e.spec.ts); these tests pin the bookkeeping.
describe('keeping the process alive while an operation is awaited', () => {
  it('holds until the work settles, resolved or rejected', async () => {
    const base = processHolders();
    let resolve!: () => void;
    const held = keepAliveUntilSettled(new Promise<void>((r) => (resolve = r)));
    const rejected = keepAliveUntilSettled(Promise.reject(new Error('no')));
    expect(processHolders()).toBe(base + 2);
    await expect(rejected).rejects.toThrow('no');
    expect(processHolders()).toBe(base + 1);
    resolve();
    await held;
    expect(processHolders()).toBe(base);
  });

  it('a release is idempotent', () => {
    const base = processHolders();
    const release = holdProcessOpen();
    release();
    release();
    expect(processHolders()).toBe(base);
  });
});

import { describe, expect, it, vi } from 'vitest';
import { withDeadline } from '../../../lib/core/with-deadline.js';
import { manualClock } from './support/manual-clock.js';

describe('withDeadline', () => {
  it('rejects at the deadline and swallows the late rejection of the work', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    const clock = manualClock();
    let fail!: (e: Error) => void;
    const work = new Promise<number>((_, reject) => (fail = reject));
    await expect(withDeadline(work, 5, clock, () => new Error('deadline'))).rejects.toThrow(
      'deadline',
    );
    fail(new Error('late'));
    await new Promise((r) => setTimeout(r, 10));
    process.off('unhandledRejection', unhandled);
    expect(unhandled).not.toHaveBeenCalled();
  });
});

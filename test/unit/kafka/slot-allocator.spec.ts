import { describe, expect, it } from 'vitest';
import { SlotAllocator } from '../../../lib/kafka/slot-allocator.js';

describe('SlotAllocator', () => {
  it('hands out the lowest free slot and reuses freed ones', () => {
    const s = new SlotAllocator();
    expect([s.take(), s.take(), s.take()]).toEqual([0, 1, 2]);
    s.free(1);
    expect(s.take()).toBe(1);
    s.free(0);
    s.free(2);
    expect(s.take()).toBe(0);
    expect(s.size).toBe(2);
  });
});

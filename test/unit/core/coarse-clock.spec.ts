import { describe, expect, it } from 'vitest';

import { CoarseClock } from '../../../lib/core/coarse-clock.js';
import { FakeClock } from './support/fake-clock.js';

describe('CoarseClock', () => {
  it('reads the source once per resolution window', async () => {
    const source = new FakeClock();
    let reads = 0;
    const counting = {
      ...source,
      now: () => (reads++, source.now()),
      setTimeout: source.setTimeout.bind(source),
      clearTimeout: source.clearTimeout.bind(source),
    };
    const clock = new CoarseClock(counting, 1);
    reads = 0; // the constructor read its origin
    for (let i = 0; i < 1000; i++) clock.now();
    expect(reads).toBe(1);
    await source.tick(5);
    expect(clock.now()).toBe(5);
    expect(reads).toBe(2);
  });

  it('arms no timer until read, and one refresh timer per read window', async () => {
    const source = new FakeClock();
    const clock = new CoarseClock(source, 1);
    expect(source.pendingTimers()).toHaveLength(0);
    clock.now();
    clock.now();
    expect(source.pendingTimers()).toHaveLength(1);
    await source.tick(1);
    expect(source.pendingTimers()).toHaveLength(0);
  });

  it('reads whole milliseconds since the clock was made', () => {
    const source = new FakeClock();
    (source as unknown as { current: number }).current = 1000.75;
    const clock = new CoarseClock(source, 1);
    (source as unknown as { current: number }).current = 1003.5;
    expect(clock.exact()).toBe(2);
  });

  it('exact() reads the source and never lets now() go backwards', async () => {
    const source = new FakeClock();
    const clock = new CoarseClock(source, 10);
    expect(clock.now()).toBe(0);
    await source.tick(0);
    (source as unknown as { current: number }).current = 7; // time moved without the refresh timer firing
    expect(clock.now()).toBe(0);
    expect(clock.exact()).toBe(7);
    expect(clock.now()).toBe(7);
  });

  it('stop() cancels the refresh timer and later reads go straight to the source', async () => {
    const source = new FakeClock();
    const clock = new CoarseClock(source, 1);
    clock.now();
    clock.stop();
    expect(source.pendingTimers()).toHaveLength(0);
    await source.tick(3);
    expect(clock.now()).toBe(3);
    expect(source.pendingTimers()).toHaveLength(0);
  });
});

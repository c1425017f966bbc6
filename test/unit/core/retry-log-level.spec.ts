import { describe, expect, it } from 'vitest';
import { retryLogLevel } from '../../../lib/core/logger.js';

describe('retryLogLevel', () => {
  it('warns on the first failure and every 10th, debug in between', () => {
    const levels = Array.from({ length: 21 }, (_, i) => retryLogLevel(i + 1));
    const warned = levels.flatMap((level, i) => (level === 'warn' ? [i + 1] : []));
    expect(warned).toEqual([1, 10, 20]);
  });
});

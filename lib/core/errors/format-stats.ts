import type { PoolStats } from '../pool-stats.js';

/** `(max=8, size=8, leased=8, idle=0, creating=0, waiting=120)`: the part of an error message that lets an operator size the pool. */
export function formatStats(stats: PoolStats): string {
  return `(max=${stats.max}, size=${stats.size}, leased=${stats.leased}, idle=${stats.idle}, creating=${stats.creating}, waiting=${stats.waiting})`;
}

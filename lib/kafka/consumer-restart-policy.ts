import { fullJitterBackoff } from '../core/backoff.js';
import type { Clock } from '../core/clock.js';

export interface RestartPolicyOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  /** More restarts than this within `windowMs` → give up. */
  maxRestarts: number;
  windowMs: number;
}

export type RestartDecision =
  | { restart: true; delayMs: number; restartsInWindow: number }
  | { restart: false; restartsInWindow: number };

/**
 * Decides what happens after a consumer crash.
 *
 * - A crash of the consumer itself (a handler that keeps throwing on a poison message, a protocol
 *   error): restart after a full-jitter backoff growing with the restarts in the sliding window;
 *   once the window already holds `maxRestarts`, give up — a crash loop is never retried silently.
 * - A crash because no broker answered (`outage`): always restart, backing off up to
 *   `maxDelayMs`, without counting toward the limit. A broker outage is not the consumer's fault;
 *   it must resume on its own when the broker returns (readiness reports the outage meanwhile).
 */
export class ConsumerRestartPolicy {
  private readonly restarts: number[] = [];
  private outageAttempts = 0;

  constructor(
    private readonly options: RestartPolicyOptions,
    private readonly clock: Clock,
    private readonly random: () => number = Math.random,
  ) {}

  onCrash(cause: 'consumer' | 'outage' = 'consumer'): RestartDecision {
    const now = this.clock.now();
    while (this.restarts.length > 0 && (this.restarts[0] as number) <= now - this.options.windowMs)
      this.restarts.shift();
    const inWindow = this.restarts.length;
    if (cause === 'outage') {
      this.outageAttempts++;
      return {
        restart: true,
        delayMs: fullJitterBackoff(this.outageAttempts, this.options, this.random),
        restartsInWindow: inWindow,
      };
    }
    if (inWindow >= this.options.maxRestarts) return { restart: false, restartsInWindow: inWindow };
    this.restarts.push(now);
    const delayMs = fullJitterBackoff(inWindow + 1, this.options, this.random);
    return { restart: true, delayMs, restartsInWindow: inWindow + 1 };
  }

  /** The consumer joined its group again: an outage is over. */
  onJoined(): void {
    this.outageAttempts = 0;
  }
}

import { describe, expect, it } from 'vitest';
import { ConsumerRestartPolicy } from '../../../lib/kafka/consumer-restart-policy.js';
import { manualClock } from '../core/support/manual-clock.js';

describe('ConsumerRestartPolicy', () => {
  const options = { initialDelayMs: 100, maxDelayMs: 1000, maxRestarts: 3, windowMs: 10_000 };

  it('restarts with a growing full-jitter delay, then gives up after maxRestarts within the window', () => {
    const clock = manualClock();
    const policy = new ConsumerRestartPolicy(options, clock, () => 0.999);
    const delays = [1, 2, 3].map(() => {
      const d = policy.onCrash();
      expect(d.restart).toBe(true);
      return d.restart ? d.delayMs : -1;
    });
    expect(delays).toEqual([99, 199, 399]);
    expect(policy.onCrash()).toEqual({ restart: false, restartsInWindow: 3 });
  });

  it('restarts forever through a broker outage without counting toward the limit, backing off to maxDelayMs', () => {
    const clock = manualClock();
    const policy = new ConsumerRestartPolicy(options, clock, () => 0.999);
    const delays = Array.from({ length: 10 }, () => {
      const d = policy.onCrash('outage');
      expect(d.restart).toBe(true);
      return d.restart ? d.delayMs : -1;
    });
    expect(delays.slice(0, 3)).toEqual([99, 199, 399]);
    expect(delays[9]).toBe(999);
    policy.onJoined();
    expect(policy.onCrash('outage')).toMatchObject({ delayMs: 99 });
    // The consumer's own crashes still count.
    for (let i = 0; i < 3; i++) expect(policy.onCrash('consumer').restart).toBe(true);
    expect(policy.onCrash('consumer').restart).toBe(false);
  });

  it('forgets restarts older than the window (a crash a day is not a loop)', () => {
    const clock = manualClock();
    const policy = new ConsumerRestartPolicy(options, clock, () => 0.5);
    for (let i = 0; i < 3; i++) expect(policy.onCrash().restart).toBe(true);
    clock.advance(10_001);
    const next = policy.onCrash();
    expect(next).toMatchObject({ restart: true, restartsInWindow: 1 });
  });
});

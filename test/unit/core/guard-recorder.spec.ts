import { describe, expect, it } from 'vitest';
import { guardRecorder } from '../../../lib/core/guard-recorder.js';
import { NOOP_POOL_METRICS, type PoolMetricsRecorder } from '../../../lib/core/metrics-recorder.js';

describe('guardRecorder', () => {
  it('returns the null object itself, so callers can tell that nobody records', () => {
    expect(guardRecorder(NOOP_POOL_METRICS, NOOP_POOL_METRICS, () => undefined)).toBe(
      NOOP_POOL_METRICS,
    );
  });

  it('passes calls through with their arguments and `this`, including prototype methods', () => {
    class Recorder implements PoolMetricsRecorder {
      waits: number[] = [];
      acquired(waitSeconds: number): void {
        this.waits.push(waitSeconds);
      }
      acquireFailed(): void {}
      leak(): void {}
    }
    const recorder = new Recorder();
    guardRecorder(recorder, NOOP_POOL_METRICS, () => undefined).acquired(0.5);
    expect(recorder.waits).toEqual([0.5]);
  });

  it('reports a throw with the method name and does not rethrow it', () => {
    const failure = new Error('registry gone');
    const reported: [string, unknown][] = [];
    const guarded = guardRecorder(
      {
        ...NOOP_POOL_METRICS,
        leak: () => {
          throw failure;
        },
      },
      NOOP_POOL_METRICS,
      (method, error) => reported.push([method, error]),
    );
    expect(() => guarded.leak()).not.toThrow();
    expect(reported).toEqual([['leak', failure]]);
  });
});

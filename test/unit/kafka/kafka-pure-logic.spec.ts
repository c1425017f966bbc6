import kafkajs from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../../lib/core/clock.js';
import type { MqLogger } from '../../../lib/core/logger.js';
import { ConsumerRestartPolicy } from '../../../lib/kafka/consumer-restart-policy.js';
import { classifyKafkajsError } from '../../../lib/kafka/kafkajs-driver.js';
import { kafkajsLogCreator, makeScrubber } from '../../../lib/kafka/kafkajs-log-bridge.js';
import { SlotAllocator } from '../../../lib/kafka/slot-allocator.js';
import { withDeadline } from '../../../lib/core/with-deadline.js';

function manualClock(): Clock & { advance(ms: number): void } {
  let now = 0;
  return {
    now: () => now,
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
    advance: (ms) => {
      now += ms;
    },
  };
}

function recordingLogger(): MqLogger & {
  lines: { level: string; message: string; fields?: Record<string, unknown> }[];
} {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

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

describe('classifyKafkajsError', () => {
  const {
    KafkaJSConnectionError,
    KafkaJSNumberOfRetriesExceeded,
    KafkaJSProtocolError,
    KafkaJSRequestTimeoutError,
    KafkaJSSASLAuthenticationError,
  } = kafkajs;
  const protocol = (type: string, code: number) =>
    new KafkaJSProtocolError({ message: type, type, code, retriable: false } as unknown as Error);

  it('maps client errors to client-neutral kinds, looking through wrappers', () => {
    expect(classifyKafkajsError(new KafkaJSConnectionError('refused'))).toBe('connection');
    expect(
      classifyKafkajsError(
        new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('refused'), {
          retryCount: 5,
          retryTime: 100,
          cause: new KafkaJSConnectionError('refused'),
        } as never),
      ),
    ).toBe('connection');
    expect(classifyKafkajsError(new KafkaJSRequestTimeoutError('slow'))).toBe('timeout');
    expect(classifyKafkajsError(protocol('INVALID_PRODUCER_EPOCH', 47))).toBe('fenced');
    expect(classifyKafkajsError(protocol('UNKNOWN', 90))).toBe('fenced');
    expect(classifyKafkajsError(protocol('OUT_OF_ORDER_SEQUENCE_NUMBER', 45))).toBe(
      'producer-state',
    );
    expect(classifyKafkajsError(protocol('MESSAGE_TOO_LARGE', 10))).toBe('rejected');
    expect(
      classifyKafkajsError(
        new (KafkaJSSASLAuthenticationError as unknown as new (m: string) => Error)('bad password'),
      ),
    ).toBe('auth');
    expect(classifyKafkajsError(new Error('boom'))).toBe('unknown');
    const aggregate = Object.assign(new Error('agg'), {
      name: 'KafkaJSAggregateError',
      errors: [protocol('INVALID_PRODUCER_EPOCH', 47)],
    });
    expect(classifyKafkajsError(aggregate)).toBe('fenced');
  });
});

describe('kafkajs log bridge', () => {
  it('maps levels one to one and keeps the namespace', () => {
    const logger = recordingLogger();
    const log = kafkajsLogCreator(logger, [])(4);
    const entry = (level: number, message: string) => ({
      namespace: 'Producer',
      level,
      label: '',
      log: { timestamp: 't', message },
    });
    log(entry(1, 'e'));
    log(entry(2, 'w'));
    log(entry(4, 'i'));
    log(entry(5, 'd'));
    expect(logger.lines.map((l) => [l.level, l.message])).toEqual([
      ['error', 'kafkajs: e'],
      ['warn', 'kafkajs: w'],
      ['info', 'kafkajs: i'],
      ['debug', 'kafkajs: d'],
    ]);
    expect(logger.lines[0]?.fields).toEqual({ kafkajs: 'Producer' });
  });

  it('drops secret-named fields and masks known secret values', () => {
    const logger = recordingLogger();
    const log = kafkajsLogCreator(logger, ['hunter2-secret'])(5);
    log({
      namespace: 'Connection',
      level: 1,
      label: 'ERROR',
      log: {
        timestamp: 't',
        message: 'auth failed for hunter2-secret',
        broker: 'b:1',
        sasl: { password: 'hunter2-secret' },
        password: 'hunter2-secret',
        detail: 'x hunter2-secret y',
      },
    });
    const text = JSON.stringify(logger.lines);
    expect(text).not.toContain('hunter2-secret');
    expect(logger.lines[0]?.fields).toEqual({
      kafkajs: 'Connection',
      broker: 'b:1',
      detail: 'x *** y',
    });
  });

  it('logs the bounded-retries warning of an idempotent producer at debug (a deliberate choice)', () => {
    const logger = recordingLogger();
    kafkajsLogCreator(logger, [])(5)({
      namespace: 'Producer',
      level: 2,
      label: 'WARN',
      log: {
        timestamp: 't',
        message: 'Limiting retries for the idempotent producer may invalidate EoS guarantees',
      },
    });
    expect(logger.lines[0]?.level).toBe('debug');
  });

  it('scrubber is the identity without secrets', () => {
    expect(makeScrubber([])('a')).toBe('a');
    expect(makeScrubber(['pw'])('pw/pw')).toBe('***/***');
  });
});

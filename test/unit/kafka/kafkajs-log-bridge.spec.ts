import { describe, expect, it } from 'vitest';
import type { MqLogger } from '../../../lib/core/logger.js';
import { DeadLetterFailedError, RetryInterruptedError } from '../../../lib/kafka/index.js';
import { kafkajsLogCreator, makeScrubber } from '../../../lib/kafka/kafkajs-log-bridge.js';

function recordingLogger(): MqLogger & {
  lines: { level: string; message: string; fields?: Record<string, unknown> }[];
} {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push({ level, message, fields });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

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

  it('logs retried connects and connection errors at debug: an outage is reported by the pool, once, not per retry', () => {
    const logger = recordingLogger();
    const log = kafkajsLogCreator(logger, [])(5);
    const error = (namespace: string, extra: Record<string, unknown>) =>
      log({
        namespace,
        level: 1,
        label: 'ERROR',
        log: { timestamp: 't', message: 'Connection error: connect ECONNREFUSED', ...extra },
      });
    error('Connection', { broker: 'b:1' });
    error('BrokerPool', { retryCount: 3, retryTime: 400 });
    error('Producer', {});
    expect(logger.lines.map((l) => l.level)).toEqual(['debug', 'debug', 'error']);
  });

  it("logs kafkajs's eachMessage error line at debug for what subscribe() throws on purpose and reports itself", () => {
    const logger = recordingLogger();
    const log = kafkajsLogCreator(logger, [])(5);
    const source = { topic: 't', partition: 0, offset: '1' };
    const eachMessageError = (error: unknown) =>
      log({
        namespace: 'Runner',
        level: 1,
        label: 'ERROR',
        log: { timestamp: 't', message: 'Error when calling eachMessage', error },
      });
    eachMessageError(new RetryInterruptedError(source, 2));
    eachMessageError(new DeadLetterFailedError('t.dlq', source, true, 'missing'));
    eachMessageError(new Error('a plain consume() handler failed'));
    expect(logger.lines.map((l) => l.level)).toEqual(['debug', 'debug', 'error']);
  });

  it('scrubber is the identity without secrets', () => {
    expect(makeScrubber([])('a')).toBe('a');
    expect(makeScrubber(['pw'])('pw/pw')).toBe('***/***');
  });
});

import { context, propagation, trace } from '@opentelemetry/api';
import type { LoggerService } from '@nestjs/common';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InvalidPoolOptionsError } from '../../../lib/core/errors/invalid-pool-options.error.js';
import { type MqLogger, NOOP_LOGGER } from '../../../lib/core/logger.js';
import { resolveModuleOptions } from '../../../lib/nest/mq-pool-module-options.validator.js';
import { NestMqLogger } from '../../../lib/nest/nest-mq-logger.js';
import {
  activeTracer,
  currentTraceLogFields,
  TraceContextLogger,
  withTraceContext,
} from '../../../lib/telemetry/index.js';

type Call = { level: string; message: string; fields: Record<string, unknown> | undefined };

function recordingLogger(): MqLogger & { calls: Call[] } {
  const calls: Call[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    calls.push({ level, message, fields });
  return { calls, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

function recordingNestLogger(): LoggerService & { out: unknown[] } {
  const out: unknown[] = [];
  const push = (message: unknown): void => {
    out.push(message);
  };
  return { out, log: push, warn: push, error: push, debug: push };
}

describe('log lines carry the active trace (TraceContextLogger, NestMqLogger)', () => {
  let provider: NodeTracerProvider | undefined;

  function register(): NodeTracerProvider {
    provider = new NodeTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())],
    });
    provider.register();
    return provider;
  }

  beforeEach(() => {
    provider = undefined;
  });

  afterEach(async () => {
    await provider?.shutdown();
    trace.disable();
    propagation.disable();
    context.disable();
  });

  it('outside a span: fields pass through untouched (same object), nothing added', () => {
    register();
    const inner = recordingLogger();
    const logger = withTraceContext(inner);
    const fields = { pool: 'p' };
    logger.warn('no span', fields);
    logger.info('no fields');
    expect(inner.calls[0]?.fields).toBe(fields);
    expect(inner.calls[1]?.fields).toBeUndefined();
    expect(currentTraceLogFields()).toBeUndefined();
  });

  it('inside a span: trace_id and span_id of that span on every level; explicit fields win', () => {
    const tracer = register().getTracer('t');
    const inner = recordingLogger();
    const logger = withTraceContext(inner);
    tracer.startActiveSpan('work', (span) => {
      const { traceId, spanId } = span.spanContext();
      logger.debug('d');
      logger.info('i', { a: 1 });
      logger.warn('w', { trace_id: 'mine' });
      logger.error('e', { error: new Error('x') });
      expect(inner.calls.map((c) => c.level)).toEqual(['debug', 'info', 'warn', 'error']);
      expect(inner.calls[0]?.fields).toEqual({ trace_id: traceId, span_id: spanId });
      expect(inner.calls[1]?.fields).toEqual({ trace_id: traceId, span_id: spanId, a: 1 });
      expect(inner.calls[2]?.fields).toEqual({ trace_id: 'mine', span_id: spanId });
      span.end();
    });
  });

  it('with no SDK registered there is no tracer and no ids, even inside startActiveSpan', () => {
    expect(activeTracer()).toBeUndefined();
    const inner = recordingLogger();
    const logger = withTraceContext(inner);
    trace.getTracer('t').startActiveSpan('noop', (span) => {
      logger.info('line', { a: 1 });
      span.end();
    });
    expect(inner.calls[0]?.fields).toEqual({ a: 1 });
  });

  it('activeTracer() follows the app registering and disabling a provider', async () => {
    expect(activeTracer()).toBeUndefined();
    const p = register();
    expect(activeTracer()).toBeDefined();
    await p.shutdown();
    trace.disable();
    expect(activeTracer()).toBeUndefined();
  });

  it('wraps once: idempotent, the no-op logger and the Nest bridge (which adds ids itself) stay as they are', () => {
    const inner = recordingLogger();
    const once = withTraceContext(inner);
    expect(once).toBeInstanceOf(TraceContextLogger);
    expect(withTraceContext(once)).toBe(once);
    expect(withTraceContext(NOOP_LOGGER)).toBe(NOOP_LOGGER);
    const nest = new NestMqLogger('ctx', recordingNestLogger());
    expect(withTraceContext(nest)).toBe(nest);
  });

  it('NestMqLogger text format: ids inside the appended JSON, credentials redacted', () => {
    const tracer = register().getTracer('t');
    const sink = recordingNestLogger();
    const logger = new NestMqLogger('MqPool:x', sink);
    tracer.startActiveSpan('work', (span) => {
      logger.warn('connect failed', { url: 'amqp://user:s3cret@host:5672' });
      const line = String(sink.out[0]);
      expect(line).toContain(`"trace_id":"${span.spanContext().traceId}"`);
      expect(line).toContain(`"span_id":"${span.spanContext().spanId}"`);
      expect(line).not.toContain('s3cret');
      span.end();
    });
    logger.info('outside');
    expect(sink.out[1]).toBe('outside');
  });

  it('NestMqLogger json format: one object with msg, the fields and the ids; errors reduced, secrets redacted', () => {
    const tracer = register().getTracer('t');
    const sink = recordingNestLogger();
    const logger = new NestMqLogger('MqPool:x', sink, { format: 'json' });
    logger.info('plain');
    expect(sink.out[0]).toEqual({ msg: 'plain' });
    tracer.startActiveSpan('work', (span) => {
      const error = Object.assign(new Error('boom'), { code: 'ECONNREFUSED' });
      logger.error('failed', { error, url: 'amqp://u:pw@h', n: 10n });
      expect(sink.out[1]).toEqual({
        msg: 'failed',
        trace_id: span.spanContext().traceId,
        span_id: span.spanContext().spanId,
        error: { name: 'Error', message: 'boom', code: 'ECONNREFUSED' },
        url: expect.not.stringContaining('pw') as unknown,
        n: '10',
      });
      span.end();
    });
  });

  it('module option logging.format is validated like the other options and reaches the Nest bridge', () => {
    const rabbitmq = { url: 'amqp://127.0.0.1' };
    const failure = (logging: unknown): InvalidPoolOptionsError => {
      try {
        resolveModuleOptions({ rabbitmq, logging }, 'd');
      } catch (e) {
        return e as InvalidPoolOptionsError;
      }
      throw new Error('expected a failure');
    };
    expect(failure({ format: 'xml' })).toBeInstanceOf(InvalidPoolOptionsError);
    expect(failure({ format: 'xml' }).key).toBe('logging.format');
    expect(failure({ format: 'xml' }).message).toMatch(/must be 'text' or 'json', got 'xml'/);
    expect(failure({ colour: true }).key).toBe('logging.colour');
    expect(failure('json').key).toBe('logging');

    const sink = recordingNestLogger();
    const resolved = resolveModuleOptions(
      { rabbitmq, logger: sink, logging: { format: 'json' } },
      'd',
    );
    resolved.logger.warn('hello', { a: 1 });
    expect(sink.out[0]).toEqual({ msg: 'hello', a: 1 });
    const text = recordingNestLogger();
    resolveModuleOptions({ rabbitmq, logger: text }, 'd').logger.warn('hello', { a: 1 });
    expect(text.out[0]).toBe('hello {"a":1}');
  });
});

import type { MqLogger } from '../core/logger.js';
import { NOOP_LOGGER } from '../core/logger.js';
import { currentTraceLogFields } from './trace-log-fields.js';

/**
 * An `MqLogger` that adds `trace_id` and `span_id` of the active span to every line's fields, so
 * library log lines join the trace they happened in. Lines outside a span pass through untouched
 * (same fields object). Fields a caller set explicitly win.
 */
export class TraceContextLogger implements MqLogger {
  constructor(readonly inner: MqLogger) {}

  debug(message: string, fields?: Record<string, unknown>): void {
    this.inner.debug(message, withTraceFields(fields));
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.inner.info(message, withTraceFields(fields));
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.inner.warn(message, withTraceFields(fields));
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.inner.error(message, withTraceFields(fields));
  }
}

/**
 * Wraps `logger` once (idempotent). The no-op logger, and a logger that adds the ids itself
 * (`addsTraceContext: true`, like the Nest bridge), stay as they are.
 */
export function withTraceContext(logger: MqLogger): MqLogger {
  if (logger === NOOP_LOGGER || logger instanceof TraceContextLogger) return logger;
  if ((logger as { addsTraceContext?: unknown }).addsTraceContext === true) return logger;
  return new TraceContextLogger(logger);
}

export function withTraceFields(
  fields: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  const ids = currentTraceLogFields();
  if (ids === undefined) return fields;
  return fields === undefined ? { ...ids } : { ...ids, ...fields };
}

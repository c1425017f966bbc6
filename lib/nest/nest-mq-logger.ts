import { Logger, type LoggerService } from '@nestjs/common';
import type { MqLogger } from '../core/logger.js';
import { redactUrl } from '../core/redact-url.js';
import { withTraceFields } from '../telemetry/index.js';

/** `'text'`: message + fields as one JSON string; `'json'`: one object `{ msg, ...fields }` per line. */
export type NestMqLogFormat = 'text' | 'json';

export interface NestMqLoggerOptions {
  /** Default `'text'`. */
  format?: NestMqLogFormat;
}

/**
 * Adapts a Nest `LoggerService` (default: Nest's `Logger`) to the library's `MqLogger`.
 * Text format: fields appended as one JSON object so any Nest logger (console, pino, winston) keeps
 * them on one line. JSON format: the logger gets a plain object, which JSON loggers emit as fields.
 * As a last line of defence, string fields that look like URLs with credentials are redacted and
 * errors are reduced to name/message/code. Inside a span every line carries `trace_id` and `span_id`.
 */
export class NestMqLogger implements MqLogger {
  /** Tells `withTraceContext()` not to wrap it again. */
  readonly addsTraceContext = true;
  private readonly logger: LoggerService;
  private readonly json: boolean;
  /**
   * The context argument for each call, or none: a Nest `Logger` created with a context appends
   * its own to every call, so passing ours too would print it as an extra message line.
   */
  private readonly contextArgs: readonly string[];

  constructor(
    private readonly context: string,
    logger?: LoggerService,
    options: NestMqLoggerOptions = {},
  ) {
    this.logger = logger ?? new Logger(context);
    this.json = options.format === 'json';
    const ownContext =
      this.logger instanceof Logger &&
      Boolean((this.logger as unknown as { context?: string }).context);
    this.contextArgs = ownContext ? [] : [context];
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.logger.debug?.(this.format(message, fields), ...this.contextArgs);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.logger.log(this.format(message, fields), ...this.contextArgs);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.logger.warn(this.format(message, fields), ...this.contextArgs);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    // No stack argument: the fields carry the error; `undefined` would be printed as a line.
    if (this.contextArgs.length === 0) this.logger.error(this.format(message, fields));
    else this.logger.error(this.format(message, fields), undefined, this.context);
  }

  private format(
    message: string,
    fields: Record<string, unknown> | undefined,
  ): string | Record<string, unknown> {
    const all = withTraceFields(fields);
    return this.json ? structured(message, all) : text(message, all);
  }
}

function text(message: string, fields: Record<string, unknown> | undefined): string {
  if (!fields || Object.keys(fields).length === 0) return message;
  try {
    return `${message} ${JSON.stringify(fields, replacer)}`;
  } catch {
    return `${message} <unserializable fields>`;
  }
}

function structured(
  message: string,
  fields: Record<string, unknown> | undefined,
): Record<string, unknown> {
  if (!fields || Object.keys(fields).length === 0) return { msg: message };
  try {
    // Through JSON once: the same redaction and error/bigint handling as the text format.
    return { msg: message, ...(JSON.parse(JSON.stringify(fields, replacer)) as object) };
  } catch {
    return { msg: message, fields: '<unserializable fields>' };
  }
}

const URL_LIKE = /^[a-z][a-z0-9+.-]*:\/\/[^\s]*@/i;

function replacer(this: unknown, _key: string, value: unknown): unknown {
  if (typeof value === 'string' && URL_LIKE.test(value)) return redactUrl(value);
  if (value instanceof Error) {
    const code = (value as { code?: unknown }).code;
    return { name: value.name, message: value.message, ...(code === undefined ? {} : { code }) };
  }
  if (typeof value === 'bigint') return value.toString();
  return value;
}

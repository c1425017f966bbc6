import { Logger, type LoggerService } from '@nestjs/common';
import type { MqLogger } from '../core/logger.js';
import { redactUrl } from '../core/redact-url.js';

/**
 * Adapts a Nest `LoggerService` (default: Nest's `Logger`) to the library's `MqLogger`.
 * Fields are appended as one JSON object so any Nest logger (console, pino, winston) keeps them on
 * one line. As a last line of defence, string fields that look like URLs are redacted.
 */
export class NestMqLogger implements MqLogger {
  private readonly logger: LoggerService;

  constructor(
    private readonly context: string,
    logger?: LoggerService,
  ) {
    this.logger = logger ?? new Logger(context);
  }

  debug(message: string, fields?: Record<string, unknown>): void {
    this.logger.debug?.(format(message, fields), this.context);
  }

  info(message: string, fields?: Record<string, unknown>): void {
    this.logger.log(format(message, fields), this.context);
  }

  warn(message: string, fields?: Record<string, unknown>): void {
    this.logger.warn(format(message, fields), this.context);
  }

  error(message: string, fields?: Record<string, unknown>): void {
    this.logger.error(format(message, fields), undefined, this.context);
  }
}

function format(message: string, fields: Record<string, unknown> | undefined): string {
  if (!fields || Object.keys(fields).length === 0) return message;
  try {
    return `${message} ${JSON.stringify(fields, replacer)}`;
  } catch {
    return `${message} <unserializable fields>`;
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

import { errorMessage } from './with-deadline.js';

/**
 * How a dead letter says why it failed, the same for RabbitMQ and Kafka: the `x-mq-error` header
 * (the error's `Name: message`, bounded, never a stack) and `x-mq-error-code` (its stable code).
 */

/** Longest `x-mq-error` value, in UTF-8 bytes: headers travel with every copy of the record. */
export const MAX_ERROR_HEADER_BYTES = 1024;

const ELLIPSIS = '…';
const encoder = new TextEncoder();

/** `text` cut to at most `maxBytes` of UTF-8, on a character boundary, marked with an ellipsis. */
export function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const room = new Uint8Array(Math.max(0, maxBytes - Buffer.byteLength(ELLIPSIS)));
  // encodeInto writes whole characters only: `read` ends on a boundary (surrogate pairs included).
  const { read } = encoder.encodeInto(text, room);
  return text.slice(0, read) + ELLIPSIS;
}

/** The stable code of a thrown value: its string `code` (MqPoolError, Node's errno codes), else its class. */
export function errorCode(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const { code } = error as { code?: unknown };
    if (typeof code === 'string' && code !== '') return code;
    if (typeof code === 'number') return String(code);
    const name = (error as { constructor?: { name?: unknown } }).constructor?.name;
    if (typeof name === 'string' && name !== '' && name !== 'Object') return name;
  }
  return 'UNKNOWN';
}

/** The `x-mq-error` value: `Name: message`, secrets masked by `scrub`, cut to MAX_ERROR_HEADER_BYTES. */
export function failureText(error: unknown, scrub: (text: string) => string = (t) => t): string {
  return truncateUtf8(scrub(errorMessage(error)), MAX_ERROR_HEADER_BYTES);
}

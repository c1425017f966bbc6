import type { MessageProperties } from 'amqplib';
import type { MessageSerializer } from '../core/message-serializer.js';
import { RpcRemoteError } from './errors/rpc-remote.error.js';

/**
 * The wire format of an RPC reply: ordinary AMQP that any client can produce or read.
 * - header `x-mq-rpc-status`: `'ok'` (or absent, as from a server that knows nothing of this
 *   library) — the body is the handler's return value, encoded by the pool's serializer;
 *   `'error'` — the body is JSON `{ message, code? }`: the remote error's message and code only,
 *   never its stack or other properties (they may hold secrets and mean nothing to the caller).
 * - `correlationId`: the request's.
 */
export const RPC_STATUS_HEADER = 'x-mq-rpc-status';

/** RabbitMQ's direct reply-to pseudo-queue: replies come back on the requesting channel, no queue declared. */
export const DIRECT_REPLY_TO = 'amq.rabbitmq.reply-to';

/** The message of an error reply for a handler that threw something other than an Error. */
export const NON_ERROR_THROWN = 'RPC handler failed';

export interface EncodedReply {
  content: Buffer;
  contentType: string;
  status: 'ok' | 'error';
}

/** The reply to a request whose handler returned `value`. Throws when the serializer cannot encode it. */
export function okReply(value: unknown, serializer: MessageSerializer): EncodedReply {
  const { content, contentType } = serializer.serialize(value);
  return { content, contentType, status: 'ok' };
}

/** The reply to a request whose handler threw `error`: its message and `code`, nothing else. */
export function errorReply(error: unknown): EncodedReply {
  const body: { message: string; code?: string } = {
    message: error instanceof Error ? error.message : NON_ERROR_THROWN,
  };
  const code = error instanceof Error ? codeOf(error) : undefined;
  if (code !== undefined) body.code = code;
  return {
    content: Buffer.from(JSON.stringify(body)),
    contentType: 'application/json',
    status: 'error',
  };
}

export type DecodedReply = { ok: true; value: unknown } | { ok: false; error: RpcRemoteError };

/**
 * What the caller of `request()` gets from a reply. An 'ok' body the serializer cannot decode
 * throws (its PayloadDeserializationError), which the caller sees as is.
 */
export function decodeReply(
  content: Buffer,
  properties: Pick<MessageProperties, 'headers' | 'contentType'>,
  serializer: MessageSerializer,
): DecodedReply {
  const status = (properties.headers as Record<string, unknown> | undefined)?.[RPC_STATUS_HEADER];
  if (status !== 'error') {
    return { ok: true, value: serializer.deserialize(content, properties.contentType as string) };
  }
  let message = NON_ERROR_THROWN;
  let code: string | undefined;
  try {
    const body = JSON.parse(content.toString('utf8')) as { message?: unknown; code?: unknown };
    if (typeof body.message === 'string') message = body.message;
    if (typeof body.code === 'string') code = body.code;
  } catch {
    // A malformed error reply is still an error reply: the generic message says the handler failed.
  }
  return { ok: false, error: new RpcRemoteError(message, code) };
}

/** An error's `code` when it is a string or a number (Node's 'ENOENT', an HTTP-like 404, the library's own). */
function codeOf(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  if (typeof code === 'number' && Number.isFinite(code)) return String(code);
  return undefined;
}

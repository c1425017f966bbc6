import { randomBytes } from 'node:crypto';
import type { Options } from 'amqplib';

/** What `publish()` accepts as a body: bytes, text (UTF-8) or any JSON-serialisable value. */
export type MessageContent = Buffer | Uint8Array | string | object;

/** amqplib's publish options plus the per-call deadline and cancellation of this library. */
export interface PublishOptions extends Options.Publish {
  /**
   * Longest wait for a publishing channel (default `acquireTimeoutMs`), over all attempts: a retry
   * after a dead channel waits only for what is left. Each confirm wait is `confirmTimeoutMs`.
   */
  timeoutMs?: number;
  /** Aborts the publish while it waits for a channel; once written it can no longer be taken back. */
  signal?: AbortSignal;
}

export interface EncodedMessage {
  body: Buffer;
  /** Options as written on the wire: `messageId` always set, `persistent` true unless asked otherwise. */
  options: Options.Publish;
  messageId: string;
}

/**
 * Turns a caller's content and options into what goes on the wire. Every message gets a `messageId`
 * (generated when absent) that stays the same across the one retry a dead channel triggers, so a
 * consumer can deduplicate. Messages are persistent by default: a confirm for a transient message
 * promises nothing across a broker restart.
 */
export function encodeMessage(
  content: MessageContent,
  options: PublishOptions | undefined,
): EncodedMessage {
  // Hot path: bytes without options (what a throughput-minded caller sends).
  if (options === undefined && Buffer.isBuffer(content)) {
    const messageId = nextMessageId();
    return { body: content, options: { messageId, persistent: true }, messageId };
  }
  let body: Buffer;
  let contentType: string | undefined;
  if (Buffer.isBuffer(content)) {
    body = content;
  } else if (content instanceof Uint8Array) {
    body = Buffer.from(content.buffer, content.byteOffset, content.byteLength);
  } else if (typeof content === 'string') {
    body = Buffer.from(content, 'utf8');
    contentType = 'text/plain; charset=utf-8';
  } else {
    const json = JSON.stringify(content) as string | undefined;
    if (json === undefined) throw new TypeError('publish content is not JSON-serialisable');
    body = Buffer.from(json, 'utf8');
    contentType = 'application/json';
  }

  const out: Options.Publish = {};
  if (options) {
    for (const key in options) {
      if (key === 'timeoutMs' || key === 'signal') continue;
      (out as Record<string, unknown>)[key] = (options as Record<string, unknown>)[key];
    }
  }
  const messageId =
    typeof out.messageId === 'string' && out.messageId.length > 0 ? out.messageId : nextMessageId();
  out.messageId = messageId;
  if (out.persistent === undefined && out.deliveryMode === undefined) out.persistent = true;
  if (out.contentType === undefined && contentType !== undefined) out.contentType = contentType;
  return { body, options: out, messageId };
}

/**
 * Generated message ids: 72 random bits drawn once per process, then a counter. Unique across processes
 * with overwhelming probability, cheaper than a UUID per message (no entropy per call), and shorter on the
 * wire. Example: `mqp.Zk3v9QbR1xLm.1a2b`.
 */
const ID_PREFIX = `mqp.${randomBytes(9).toString('base64url')}.`;
let idCounter = 0;

export function nextMessageId(): string {
  idCounter = idCounter === Number.MAX_SAFE_INTEGER ? 0 : idCounter + 1;
  return ID_PREFIX + idCounter.toString(36);
}

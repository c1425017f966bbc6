import type { ConsumeMessage } from 'amqplib';

import type { RabbitMessage } from './rabbit-message.js';

/** The handler's view of a delivery; `attempt` is counted by the caller (see the retry headers). */
export function toRabbitMessage(raw: ConsumeMessage, attempt: number): RabbitMessage {
  const headers = (raw.properties.headers ?? {}) as Record<string, unknown>;
  const messageId = raw.properties.messageId as string | undefined;
  return {
    content: raw.content,
    fields: raw.fields,
    properties: raw.properties,
    headers,
    messageId,
    redelivered: raw.fields.redelivered,
    attempt,
    raw,
  };
}

import type { ConsumeMessage, MessageFields, MessageProperties } from 'amqplib';

/** What a declarative RabbitMQ handler receives beside its payload (DESIGN §6). */
export interface RabbitMessage {
  readonly content: Buffer;
  readonly fields: MessageFields;
  readonly properties: MessageProperties;
  /** `properties.headers`, never undefined. */
  readonly headers: Record<string, unknown>;
  readonly messageId: string | undefined;
  readonly redelivered: boolean;
  /** 1 on the first delivery, 2 on the first retry, … (counted by this library across delay queues). */
  readonly attempt: number;
  /** The amqplib message as delivered. Do not ack it yourself: the library acks when the handler settles. */
  readonly raw: ConsumeMessage;
}

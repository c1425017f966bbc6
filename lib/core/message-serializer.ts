/**
 * How declarative handlers turn payloads into bytes and back (DESIGN §6). One serializer per pool;
 * `JSON_SERIALIZER` is the default. Broker-neutral: RabbitMQ passes the `contentType` property,
 * Kafka the `content-type` header.
 */
export interface MessageSerializer {
  /** Bytes and content type for an outgoing payload. */
  serialize(payload: unknown): { content: Buffer; contentType: string };
  /**
   * The payload for incoming bytes. Throw to declare the message undecodable: it is dead-lettered
   * at once with the reason (see PayloadDeserializationError), never retried.
   */
  deserialize(content: Buffer, contentType: string | undefined): unknown;
}

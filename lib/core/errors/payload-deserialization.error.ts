import { NonRetriableError } from './non-retriable.error.js';

/** A message's bytes do not decode as its content type says: dead-lettered at once, never retried. */
export class PayloadDeserializationError extends NonRetriableError {
  override readonly code: string = 'MQ_PAYLOAD_UNDECODABLE';

  constructor(
    readonly contentType: string | undefined,
    cause: unknown,
  ) {
    super(
      `The message body is not valid ${contentType ?? 'content'}: ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}

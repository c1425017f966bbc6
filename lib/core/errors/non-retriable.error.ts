import { MqPoolError } from './mq-pool.error.js';

/**
 * Thrown by a declarative handler (or raised for it when a pipe or guard rejects the message) to
 * send the message to its dead-letter target at once: retrying cannot help a message that is
 * invalid. The message and `code` travel in the dead-letter headers.
 */
export class NonRetriableError extends MqPoolError {
  readonly code: string = 'MQ_MESSAGE_NON_RETRIABLE';
}

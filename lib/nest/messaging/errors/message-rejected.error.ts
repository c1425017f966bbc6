import { NonRetriableError } from '../../../core/errors/non-retriable.error.js';

/**
 * Nest's pipeline refused a message before the handler ran: a pipe rejected a parameter (e.g.
 * `ValidationPipe` and a DTO), a guard returned false or threw, or an interceptor failed without
 * calling the handler. Retrying cannot make the message acceptable, so it is dead-lettered at once;
 * `reason` (and the message) say why, `cause` is what the pipeline threw.
 */
export class MessageRejectedError extends NonRetriableError {
  override readonly code: string = 'MQ_MESSAGE_REJECTED';

  constructor(
    /** `Class.method` of the handler. */
    readonly handler: string,
    readonly reason: string,
    cause: unknown,
  ) {
    super(`${handler} rejected the message before it ran: ${reason}`, { cause });
  }
}

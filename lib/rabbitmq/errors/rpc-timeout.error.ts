import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/** No reply to `request()` within its `timeoutMs`; a reply arriving later is dropped and counted. */
export class RpcTimeoutError extends MqPoolError {
  readonly code = 'MQ_RPC_TIMEOUT';

  constructor(
    readonly exchange: string,
    readonly routingKey: string,
    readonly timeoutMs: number,
    readonly correlationId: string,
  ) {
    super(
      `No reply to the request on exchange "${exchange}" with routing key "${routingKey}" within ${timeoutMs}ms ` +
        `(correlation id ${correlationId}). Check that a @RabbitRpc handler consumes that route, or raise timeoutMs.`,
    );
  }
}

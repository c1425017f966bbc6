import { MqPoolError } from '../../core/errors/mq-pool.error.js';

/**
 * The `@RabbitRpc` handler threw. Carries the remote error's message and code only: the remote
 * stack and any other property stay on the server.
 */
export class RpcRemoteError extends MqPoolError {
  readonly code = 'MQ_RPC_REMOTE_ERROR';

  constructor(
    readonly remoteMessage: string,
    /** The remote error's `code` (e.g. `MQ_MESSAGE_NON_RETRIABLE`, or the app's own), when it had one. */
    readonly remoteCode: string | undefined,
  ) {
    super(
      `The RPC handler failed: ${remoteMessage}` +
        (remoteCode === undefined ? '' : ` (${remoteCode})`),
    );
  }
}

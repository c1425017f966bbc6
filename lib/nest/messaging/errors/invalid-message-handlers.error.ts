import { MqPoolError } from '../../../core/errors/mq-pool.error.js';
import type { InvalidPoolOptionsError } from '../../../core/errors/invalid-pool-options.error.js';

/**
 * Several declarative handlers are misconfigured: all of them are reported at once (fix them in one
 * go), and none was attached. A single mistake is thrown as its own `InvalidPoolOptionsError`.
 */
export class InvalidMessageHandlersError extends MqPoolError {
  readonly code = 'MQ_INVALID_MESSAGE_HANDLERS';

  constructor(readonly errors: readonly InvalidPoolOptionsError[]) {
    super(
      `${errors.length} message handlers are misconfigured (none was started):\n${errors
        .map((e) => `  - ${e.message}`)
        .join('\n')}`,
    );
  }
}

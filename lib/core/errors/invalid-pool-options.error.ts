import { MqPoolError } from './mq-pool.error.js';

/** An option is missing, of the wrong type, out of range, unknown, or contradicts another. */
export class InvalidPoolOptionsError extends MqPoolError {
  readonly code = 'MQ_POOL_INVALID_OPTIONS';

  constructor(
    /** Dotted path of the offending key, e.g. `rabbitmq.channelsPerConnection`. */
    readonly key: string,
    problem: string,
    fix: string,
  ) {
    super(`Invalid option "${key}": ${problem}. Fix: ${fix}`);
  }
}

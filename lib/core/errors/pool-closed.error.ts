import { MqPoolError } from './mq-pool.error.js';

/** The pool is draining or closed: it hands out nothing any more. */
export class PoolClosedError extends MqPoolError {
  readonly code = 'MQ_POOL_CLOSED';

  constructor(
    readonly pool: string,
    readonly state: 'draining' | 'closed',
  ) {
    super(`pool "${pool}" is ${state}: no new leases are handed out`);
  }
}

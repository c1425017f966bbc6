import { MqPoolError } from './mq-pool.error.js';

/** An internal invariant of the pool was broken: a bug in the pool, never a usage error. */
export class PoolInvariantError extends MqPoolError {
  readonly code = 'MQ_POOL_INVARIANT';
}

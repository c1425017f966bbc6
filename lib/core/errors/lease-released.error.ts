import { MqPoolError } from './mq-pool.error.js';

/**
 * A lease was used after it ended. The resource may already belong to another caller, so the
 * pool refuses instead of sharing it. Acquire a new lease instead of keeping an old one around.
 */
export class LeaseReleasedError extends MqPoolError {
  readonly code = 'MQ_POOL_LEASE_RELEASED';

  constructor(
    readonly pool: string,
    /** `released`/`destroyed` by its holder, or `revoked` by a drain that passed its deadline. */
    readonly how: 'released' | 'destroyed' | 'revoked',
  ) {
    super(
      how === 'revoked'
        ? `lease of pool "${pool}" was revoked: the pool drained past its deadline and destroyed the resource`
        : `lease of pool "${pool}" was already ${how}: its resource may now belong to another caller; acquire a new lease`,
    );
  }
}

export { AcquireTimeoutError } from './acquire-timeout.error.js';
export { InvalidPoolOptionsError } from './invalid-pool-options.error.js';
export { LeaseReleasedError } from './lease-released.error.js';
export { MqPoolError } from './mq-pool.error.js';
export { NonRetriableError } from './non-retriable.error.js';
export { PayloadDeserializationError } from './payload-deserialization.error.js';
export { PoolClosedError } from './pool-closed.error.js';
export { PoolExhaustedError } from './pool-exhausted.error.js';
export { PoolInvariantError } from './pool-invariant.error.js';
export { BrokerAccessDeniedError } from './broker-access-denied.error.js';
export { BrokerAuthenticationError } from './broker-authentication.error.js';
export { BrokerTlsError } from './broker-tls.error.js';
export {
  PermanentConnectError,
  type PermanentConnectErrorDetails,
} from './permanent-connect.error.js';

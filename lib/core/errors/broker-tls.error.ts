import { PermanentConnectError } from './permanent-connect.error.js';

/** The TLS handshake failed: the server's certificate does not verify, or the port does not speak TLS. */
export class BrokerTlsError extends PermanentConnectError {
  readonly code = 'MQ_BROKER_TLS_FAILED';
}

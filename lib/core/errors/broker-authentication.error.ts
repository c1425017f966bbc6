import { PermanentConnectError } from './permanent-connect.error.js';

/** The broker refused the credentials (AMQP 403 ACCESS-REFUSED at login; Kafka SASL authentication failed). */
export class BrokerAuthenticationError extends PermanentConnectError {
  readonly code = 'MQ_BROKER_AUTHENTICATION_FAILED';
}

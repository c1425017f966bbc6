import { PermanentConnectError } from './permanent-connect.error.js';

/**
 * The credentials were accepted but the connection was not allowed: on RabbitMQ, the vhost does
 * not exist, the user has no permission on it, or its connection limit is reached (AMQP 530
 * NOT_ALLOWED); on Kafka, the principal is not authorized for the cluster.
 */
export class BrokerAccessDeniedError extends PermanentConnectError {
  readonly code = 'MQ_BROKER_ACCESS_DENIED';
}

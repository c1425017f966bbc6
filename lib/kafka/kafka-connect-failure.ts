import { describeConnectFailure } from '../core/connect-failure.js';
import { BrokerAccessDeniedError } from '../core/errors/broker-access-denied.error.js';
import { BrokerAuthenticationError } from '../core/errors/broker-authentication.error.js';
import { BrokerTlsError } from '../core/errors/broker-tls.error.js';
import type { PermanentConnectError } from '../core/errors/permanent-connect.error.js';
import type { KafkaErrorKind } from './kafka-driver.js';

/**
 * A Kafka connect failure that no retry fixes, as a typed error: SASL authentication refused,
 * the principal not authorized for the cluster (both `auth` to the driver), or a TLS handshake
 * that failed (certificate verification, or a port that does not speak TLS). `message` is the
 * driver's error text, already scrubbed of secrets.
 */
export function kafkaPermanentFailure(
  error: unknown,
  kind: KafkaErrorKind,
  message: string,
  where: { pool: string; brokers: readonly string[] },
): PermanentConnectError | undefined {
  const base = {
    broker: 'Kafka' as const,
    pool: where.pool,
    target: where.brokers.join(', '),
    cause: error,
  };
  if (kind === 'auth') {
    if (/authoriz/i.test(message)) {
      return new BrokerAccessDeniedError(
        { ...base, reason: `the principal is not authorized (${message})` },
        'Grant the principal the ACLs it needs (kafka-acls), or use another user in kafka.sasl.',
      );
    }
    return new BrokerAuthenticationError(
      { ...base, reason: `the broker refused the SASL credentials (${message})` },
      'Check kafka.sasl (mechanism, username, password) against the users the broker knows.',
    );
  }
  const failure = describeConnectFailure(error);
  if (failure.kind === 'tls') {
    return new BrokerTlsError(
      { ...base, reason: failure.words },
      "Check kafka.ssl (ca: the CA that signed the broker certificate; servername) and that the brokers' port serves TLS.",
    );
  }
  return undefined;
}

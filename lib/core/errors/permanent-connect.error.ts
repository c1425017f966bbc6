import { MqPoolError } from './mq-pool.error.js';

export interface PermanentConnectErrorDetails {
  /** "RabbitMQ" or "Kafka". */
  readonly broker: 'RabbitMQ' | 'Kafka';
  /** The pool's registration name. */
  readonly pool: string;
  /** Where it tried to connect, without credentials (a redacted URL or the broker list). */
  readonly target: string;
  /** What the broker or the TLS layer said, in words, e.g. "credentials refused (403 ACCESS-REFUSED)". */
  readonly reason: string;
  /** The client library's own error. */
  readonly cause: unknown;
}

/**
 * A connection attempt the broker (or TLS) refused in a way no retry can fix: wrong credentials, a
 * vhost that does not exist or is not allowed, a certificate that does not verify. A pool's
 * `start()` rejects with one of these at once, without waiting for its startup deadline; the pool
 * still retries at the slow end of its backoff (the operator may fix the broker side), and says so.
 */
export abstract class PermanentConnectError extends MqPoolError {
  readonly broker: 'RabbitMQ' | 'Kafka';
  readonly pool: string;
  readonly target: string;
  readonly reason: string;

  constructor(details: PermanentConnectErrorDetails, remedy: string) {
    super(
      `${details.broker} pool "${details.pool}" cannot connect to ${details.target}: ${details.reason}. ${remedy}`,
      { cause: details.cause },
    );
    this.broker = details.broker;
    this.pool = details.pool;
    this.target = details.target;
    this.reason = details.reason;
  }
}

import { describeConnectFailure } from '../core/connect-failure.js';
import { BrokerAccessDeniedError } from '../core/errors/broker-access-denied.error.js';
import { BrokerAuthenticationError } from '../core/errors/broker-authentication.error.js';
import { BrokerTlsError } from '../core/errors/broker-tls.error.js';
import type { PermanentConnectError } from '../core/errors/permanent-connect.error.js';

/**
 * What a failed `amqp.connect()` means. amqplib reports the broker's refusals only as message text:
 * - "Handshake terminated by server: 403 (ACCESS-REFUSED) …": the login was refused (bad user or
 *   password, or a user not allowed to log in from this host);
 * - "Expected ConnectionOpenOk; got <ConnectionClose …>": the broker refused `connection.open`,
 *   which RabbitMQ does only with 530 NOT_ALLOWED (vhost missing, no permission on it, or its
 *   connection limit reached) — amqplib drops the reply text, so the three cannot be told apart;
 * - "SASL mechanism … is not provided by the server": an authentication set-up the broker lacks.
 * Everything else is a socket, DNS or TLS failure (`describeConnectFailure`).
 */
export function amqpPermanentFailure(
  error: unknown,
  where: { pool: string; target: string },
): PermanentConnectError | undefined {
  const message = error instanceof Error ? error.message : String(error);
  const base = {
    broker: 'RabbitMQ' as const,
    pool: where.pool,
    target: where.target,
    cause: error,
  };
  if (/\b403\b.*ACCESS.REFUSED/.test(message) || /^SASL mechanism/.test(message)) {
    return new BrokerAuthenticationError(
      { ...base, reason: 'the broker refused the credentials (403 ACCESS-REFUSED)' },
      'Check the user and password in rabbitmq.url (the guest user may log in from localhost only).',
    );
  }
  if (/Expected ConnectionOpenOk; got <ConnectionClose/.test(message)) {
    const vhost = vhostOf(where.target);
    return new BrokerAccessDeniedError(
      {
        ...base,
        reason: `the broker refused to open vhost "${vhost}" (530 NOT_ALLOWED: the vhost does not exist, the user has no permission on it, or its connection limit is reached)`,
      },
      'Check the vhost in rabbitmq.url (its path; "/" is %2F) and the user\'s permissions: rabbitmqctl list_vhosts, rabbitmqctl list_user_permissions <user>.',
    );
  }
  const failure = describeConnectFailure(error);
  if (failure.kind === 'tls') {
    return new BrokerTlsError(
      { ...base, reason: failure.words },
      'Check socketOptions.ca (the CA that signed the broker certificate), socketOptions.servername, and that the port serves TLS (amqps://, usually 5671).',
    );
  }
  return undefined;
}

/** The vhost a (redacted) AMQP URL names: its decoded path, "/" when it has none. */
function vhostOf(url: string): string {
  try {
    const path = new URL(url).pathname;
    return path === '' || path === '/' ? '/' : decodeURIComponent(path.slice(1));
  } catch {
    return '?';
  }
}

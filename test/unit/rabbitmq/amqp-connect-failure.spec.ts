import { describe, expect, it } from 'vitest';
import { BrokerAccessDeniedError } from '../../../lib/core/errors/broker-access-denied.error.js';
import { BrokerAuthenticationError } from '../../../lib/core/errors/broker-authentication.error.js';
import { BrokerTlsError } from '../../../lib/core/errors/broker-tls.error.js';
import { amqpPermanentFailure } from '../../../lib/rabbitmq/amqp-connect-failure.js';

// The messages amqplib 2.x produces (seen against RabbitMQ 3.10; see the integration test).
const where = { pool: 'orders', target: 'amqp://***@broker:5672/shop' };

describe('amqpPermanentFailure', () => {
  it('a 403 at login is an authentication error keeping amqplib’s error as cause', () => {
    const cause = new Error(
      'Handshake terminated by server: 403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - Login was refused using authentication mechanism PLAIN."',
    );
    const e = amqpPermanentFailure(cause, where);
    expect(e).toBeInstanceOf(BrokerAuthenticationError);
    expect(e!.cause).toBe(cause);
    expect(e!.message).toBe(
      'RabbitMQ pool "orders" cannot connect to amqp://***@broker:5672/shop: the broker refused the credentials (403 ACCESS-REFUSED). Check the user and password in rabbitmq.url (the guest user may log in from localhost only).',
    );
  });

  it('a refused connection.open is an access error naming the decoded vhost', () => {
    const e = amqpPermanentFailure(
      new Error('Expected ConnectionOpenOk; got <ConnectionClose channel:0>'),
      { ...where, target: 'amqp://***@broker:5672/a%2Fb' },
    );
    expect(e).toBeInstanceOf(BrokerAccessDeniedError);
    expect(e!.reason).toMatch(/^the broker refused to open vhost "a\/b" \(530 NOT_ALLOWED/);
  });

  it('a certificate that does not verify is a TLS error', () => {
    const cause = Object.assign(new Error('self-signed certificate'), {
      code: 'DEPTH_ZERO_SELF_SIGNED_CERT',
    });
    expect(amqpPermanentFailure(cause, where)).toBeInstanceOf(BrokerTlsError);
  });

  it('transient failures are not permanent', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5672'), {
      code: 'ECONNREFUSED',
    });
    expect(amqpPermanentFailure(refused, where)).toBeUndefined();
    expect(
      amqpPermanentFailure(new Error('Socket closed abruptly during opening handshake'), where),
    ).toBeUndefined();
  });
});

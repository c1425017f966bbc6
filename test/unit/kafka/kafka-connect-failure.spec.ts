import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { BrokerAccessDeniedError } from '../../../lib/core/errors/broker-access-denied.error.js';
import { BrokerAuthenticationError } from '../../../lib/core/errors/broker-authentication.error.js';
import { BrokerTlsError } from '../../../lib/core/errors/broker-tls.error.js';
import { kafkaPermanentFailure } from '../../../lib/kafka/kafka-connect-failure.js';
import { classifyKafkajsError } from '../../../lib/kafka/kafkajs-driver.js';

const where = { pool: 'events', brokers: ['k1:9093', 'k2:9093'] };
const classify = (e: unknown) =>
  kafkaPermanentFailure(e, classifyKafkajsError(e), e instanceof Error ? e.message : '', where);

describe('kafkaPermanentFailure', () => {
  it('a SASL authentication failure is an authentication error', () => {
    const SaslError = kafkajs.KafkaJSSASLAuthenticationError as unknown as new (m: string) => Error;
    const e = classify(
      new SaslError('SASL SCRAM SHA256 authentication failed: Authentication failed'),
    );
    expect(e).toBeInstanceOf(BrokerAuthenticationError);
    expect(e!.message).toMatch(
      /^Kafka pool "events" cannot connect to k1:9093, k2:9093: the broker refused the SASL credentials/,
    );
  });

  it('an authorization failure is an access error', () => {
    const e = kafkaPermanentFailure(
      new Error('Cluster authorization failed'),
      'auth',
      'Cluster authorization failed',
      where,
    );
    expect(e).toBeInstanceOf(BrokerAccessDeniedError);
  });

  it('a certificate failure wrapped by the client is a TLS error', () => {
    const socket = Object.assign(new Error('unable to verify the first certificate'), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    const wrapped = new kafkajs.KafkaJSConnectionError(`Connection error: ${socket.message}`, {
      code: socket.code,
    } as never);
    expect(classify(wrapped)).toBeInstanceOf(BrokerTlsError);
  });

  it('a refused connection is not permanent', () => {
    const refused = new kafkajs.KafkaJSConnectionError('Connection error: connect ECONNREFUSED', {
      code: 'ECONNREFUSED',
    } as never);
    expect(classify(refused)).toBeUndefined();
  });
});

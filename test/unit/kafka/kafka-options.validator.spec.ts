import { describe, expect, it } from 'vitest';
import { InvalidPoolOptionsError } from '../../../lib/core/errors/invalid-pool-options.error.js';
import { DEFAULT_KAFKA_OPTIONS, validateKafkaOptions } from '../../../lib/kafka/index.js';

function rejects(options: unknown): InvalidPoolOptionsError {
  try {
    validateKafkaOptions(options);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPoolOptionsError);
    return error as InvalidPoolOptionsError;
  }
  throw new Error('expected InvalidPoolOptionsError');
}

describe('validateKafkaOptions', () => {
  it('applies every default from DEFAULT_KAFKA_OPTIONS', () => {
    const o = validateKafkaOptions({ brokers: ['127.0.0.1:9092'] });
    expect(o.clientId).toBe(DEFAULT_KAFKA_OPTIONS.clientId);
    expect(o.sendTimeoutMs).toBe(DEFAULT_KAFKA_OPTIONS.sendTimeoutMs);
    expect(o.idempotent).toBe(true);
    expect(o.retry).toEqual(DEFAULT_KAFKA_OPTIONS.retry);
    expect(o.consumer.restart).toEqual(DEFAULT_KAFKA_OPTIONS.consumer.restart);
    expect(o.transactions).toBeUndefined();
  });

  it('merges transactions defaults once a prefix is given', () => {
    const o = validateKafkaOptions({
      brokers: ['b:1'],
      transactions: { transactionalIdPrefix: 'svc-0', maxProducers: 8 },
    });
    expect(o.transactions).toEqual({
      ...DEFAULT_KAFKA_OPTIONS.transactions,
      transactionalIdPrefix: 'svc-0',
      maxProducers: 8,
    });
  });

  it('requires brokers as a non-empty host:port array', () => {
    expect(rejects({}).key).toBe('kafka.brokers');
    expect(rejects({ brokers: [] }).key).toBe('kafka.brokers');
    expect(rejects({ brokers: 'b:1' }).key).toBe('kafka.brokers');
    expect(rejects({ brokers: ['b:1', 'nohost'] }).key).toBe('kafka.brokers[1]');
    expect(rejects({ brokers: ['b:99999'] }).key).toBe('kafka.brokers[0]');
    expect(
      validateKafkaOptions({ brokers: ['[::1]:9092', 'kafka-0.svc:9093'] }).brokers,
    ).toHaveLength(2);
  });

  it('never echoes a malformed broker entry (it may be a URL with a password)', () => {
    const e = rejects({ brokers: ['kafka://user:s3cr3t-pw@host:9092'] });
    expect(e.message).not.toContain('s3cr3t-pw');
  });

  it('rejects unknown keys at every level, naming the dotted key', () => {
    expect(rejects({ brokers: ['b:1'], bogus: 1 }).key).toBe('kafka.bogus');
    expect(rejects({ brokers: ['b:1'], retry: { tries: 1 } }).key).toBe('kafka.retry.tries');
    expect(
      rejects({ brokers: ['b:1'], transactions: { transactionalIdPrefix: 'p', max: 1 } }).key,
    ).toBe('kafka.transactions.max');
    expect(rejects({ brokers: ['b:1'], consumer: { restart: { attempts: 1 } } }).key).toBe(
      'kafka.consumer.restart.attempts',
    );
  });

  it('checks ranges and relations with a fix in the message', () => {
    const e = rejects({ brokers: ['b:1'], sendTimeoutMs: 0 });
    expect(e.key).toBe('kafka.sendTimeoutMs');
    expect(e.message).toMatch(/Fix:/);
    expect(
      rejects({ brokers: ['b:1'], transactions: { transactionalIdPrefix: 'p', maxProducers: 0 } })
        .key,
    ).toBe('kafka.transactions.maxProducers');
    expect(
      rejects({
        brokers: ['b:1'],
        transactions: { transactionalIdPrefix: 'p', maxProducers: 2, minProducers: 3 },
      }).key,
    ).toBe('kafka.transactions.minProducers');
    expect(
      rejects({ brokers: ['b:1'], consumer: { heartbeatIntervalMs: 5000, sessionTimeoutMs: 5000 } })
        .key,
    ).toBe('kafka.consumer.heartbeatIntervalMs');
    expect(rejects({ brokers: ['b:1'], retry: { retries: 0 } }).key).toBe('kafka.retry.retries');
    expect(
      validateKafkaOptions({ brokers: ['b:1'], idempotent: false, retry: { retries: 0 } }).retry
        .retries,
    ).toBe(0);
    expect(rejects({ brokers: ['b:1'], logLevel: 'loud' }).key).toBe('kafka.logLevel');
  });

  it('requires a transactional id prefix when transactions are configured', () => {
    const e = rejects({ brokers: ['b:1'], transactions: {} });
    expect(e.key).toBe('kafka.transactions.transactionalIdPrefix');
    expect(e.message).toMatch(/unique per instance/);
  });

  it('checks SASL per mechanism and never puts a secret in the message', () => {
    expect(rejects({ brokers: ['b:1'], sasl: { mechanism: 'gssapi' } }).key).toBe(
      'kafka.sasl.mechanism',
    );
    expect(rejects({ brokers: ['b:1'], sasl: { mechanism: 'plain', username: 'u' } }).key).toBe(
      'kafka.sasl.password',
    );
    const e = rejects({
      brokers: ['b:1'],
      sasl: { mechanism: 'plain', username: 'u', password: 'hunter2-secret', extra: 1 },
    });
    expect(e.key).toBe('kafka.sasl.extra');
    expect(e.message).not.toContain('hunter2-secret');
    const aws = rejects({
      brokers: ['b:1'],
      sasl: {
        mechanism: 'aws',
        authorizationIdentity: 'a',
        accessKeyId: 'AKIA-secret',
        secretAccessKey: 42,
      },
    });
    expect(aws.key).toBe('kafka.sasl.secretAccessKey');
    expect(aws.message).not.toContain('42');
    const ok = validateKafkaOptions({
      brokers: ['b:1'],
      sasl: { mechanism: 'scram-sha-512', username: 'u', password: 'p' },
      ssl: true,
    });
    expect(ok.sasl).toEqual({ mechanism: 'scram-sha-512', username: 'u', password: 'p' });
    expect(ok.ssl).toBe(true);
  });
});

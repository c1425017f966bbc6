import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { classifyKafkajsError } from '../../../lib/kafka/kafkajs-driver.js';

describe('classifyKafkajsError', () => {
  const {
    KafkaJSConnectionError,
    KafkaJSNumberOfRetriesExceeded,
    KafkaJSProtocolError,
    KafkaJSRequestTimeoutError,
    KafkaJSSASLAuthenticationError,
  } = kafkajs;
  const protocol = (type: string, code: number) =>
    new KafkaJSProtocolError({ message: type, type, code, retriable: false } as unknown as Error);

  it('maps client errors to client-neutral kinds, looking through wrappers', () => {
    expect(classifyKafkajsError(new KafkaJSConnectionError('refused'))).toBe('connection');
    expect(
      classifyKafkajsError(
        new KafkaJSNumberOfRetriesExceeded(new KafkaJSConnectionError('refused'), {
          retryCount: 5,
          retryTime: 100,
          cause: new KafkaJSConnectionError('refused'),
        } as never),
      ),
    ).toBe('connection');
    expect(classifyKafkajsError(new KafkaJSRequestTimeoutError('slow'))).toBe('timeout');
    expect(classifyKafkajsError(protocol('INVALID_PRODUCER_EPOCH', 47))).toBe('fenced');
    expect(classifyKafkajsError(protocol('UNKNOWN', 90))).toBe('fenced');
    expect(classifyKafkajsError(protocol('OUT_OF_ORDER_SEQUENCE_NUMBER', 45))).toBe(
      'producer-state',
    );
    expect(classifyKafkajsError(protocol('MESSAGE_TOO_LARGE', 10))).toBe('rejected');
    expect(
      classifyKafkajsError(
        new (KafkaJSSASLAuthenticationError as unknown as new (m: string) => Error)('bad password'),
      ),
    ).toBe('auth');
    expect(classifyKafkajsError(new Error('boom'))).toBe('unknown');
    const aggregate = Object.assign(new Error('agg'), {
      name: 'KafkaJSAggregateError',
      errors: [protocol('INVALID_PRODUCER_EPOCH', 47)],
    });
    expect(classifyKafkajsError(aggregate)).toBe('fenced');
  });
});

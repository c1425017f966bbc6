import { describe, expect, it } from 'vitest';
import { NonRetriableError } from '../../../lib/core/errors/non-retriable.error.js';
import { DeadLetterFailedError } from '../../../lib/kafka/errors/dead-letter-failed.error.js';
import {
  errorCode,
  MAX_ERROR_HEADER_BYTES,
  truncateUtf8,
} from '../../../lib/core/failure-headers.js';
import {
  deadLetterFailure,
  deadLetterRecord,
  isUnknownTopicError,
} from '../../../lib/kafka/kafka-dead-letter.js';

const source = { topic: 'orders', partition: 2, offset: '41' };

describe('dead-letter records', () => {
  it('keep key, value and headers, and add the x-mq-* headers (replacing older ones)', () => {
    const record = deadLetterRecord(
      'orders.dlq',
      source,
      {
        key: Buffer.from('k'),
        value: Buffer.from('{"id":1}'),
        headers: { 'content-type': 'application/json', 'x-mq-attempts': '9' },
      },
      { error: new Error('boom'), attempts: 3, failedAt: new Date('2026-01-02T03:04:05.000Z') },
    );
    expect(record.topic).toBe('orders.dlq');
    expect(record.messages).toHaveLength(1);
    const [m] = record.messages;
    expect(m!.key).toEqual(Buffer.from('k'));
    expect(m!.value).toEqual(Buffer.from('{"id":1}'));
    expect(m!.headers).toEqual({
      'content-type': 'application/json',
      'x-mq-error': 'Error: boom',
      'x-mq-error-code': 'Error',
      'x-mq-attempts': '3',
      'x-mq-source-topic': 'orders',
      'x-mq-source-partition': '2',
      'x-mq-source-offset': '41',
      'x-mq-failed-at': '2026-01-02T03:04:05.000Z',
    });
  });

  it('carry no stack, a bounded message, and masked secrets', () => {
    const error = new Error(`token=s3cret ${'é'.repeat(2_000)}`);
    const record = deadLetterRecord(
      'd',
      source,
      { key: null, value: null },
      { error, attempts: 1, failedAt: new Date() },
      (text) => text.replaceAll('s3cret', '***'),
    );
    const text = record.messages[0]!.headers!['x-mq-error'] as string;
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(MAX_ERROR_HEADER_BYTES);
    expect(text.startsWith('Error: token=*** éé')).toBe(true);
    expect(text.endsWith('…')).toBe(true);
    expect(text).not.toContain('at ');
    expect(text).not.toContain('s3cret');
  });

  it('truncate UTF-8 on a character boundary', () => {
    expect(truncateUtf8('short', 10)).toBe('short');
    const emoji = '😀'.repeat(10); // 4 bytes each
    const cut = truncateUtf8(emoji, 12); // room for 9 bytes before the 3-byte ellipsis
    expect(cut).toBe('😀😀…');
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(12);
    expect(cut).not.toContain('\uFFFD');
  });

  it('name the error by its stable code, else its class', () => {
    expect(errorCode(new NonRetriableError('x'))).toBe('MQ_MESSAGE_NON_RETRIABLE');
    expect(errorCode(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
    expect(errorCode(Object.assign(new Error('x'), { code: 3 }))).toBe('3');
    expect(errorCode(new TypeError('x'))).toBe('TypeError');
    expect(errorCode({ message: 'plain object' })).toBe('UNKNOWN');
    expect(errorCode('a string')).toBe('UNKNOWN');
    expect(errorCode(undefined)).toBe('UNKNOWN');
  });

  it('tell a missing topic from other send failures', () => {
    const missing = new Error('send failed', {
      cause: new Error('retries exceeded', {
        cause: Object.assign(new Error('not hosted'), {
          code: 3,
          type: 'UNKNOWN_TOPIC_OR_PARTITION',
        }),
      }),
    });
    expect(isUnknownTopicError(missing)).toBe(true);
    expect(isUnknownTopicError(new Error('timeout'))).toBe(false);
    const failure = deadLetterFailure('orders.dlq', source, missing, (t) => t);
    expect(failure).toBeInstanceOf(DeadLetterFailedError);
    expect(failure).toMatchObject({
      code: 'MQ_KAFKA_DEAD_LETTER_FAILED',
      topicMissing: true,
      cause: missing,
    });
    expect(failure.message).toContain('Dead-letter topic "orders.dlq" does not exist');
    expect(failure.message).toContain('orders[2]@41');
    const other = deadLetterFailure('orders.dlq', source, new Error('broker gone'), (t) => t);
    expect(other.topicMissing).toBe(false);
    expect(other.message).toContain('Error: broker gone');
  });
});

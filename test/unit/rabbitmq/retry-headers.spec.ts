import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { NonRetriableError } from '../../../lib/core/errors/non-retriable.error.js';
import { failureText, MAX_ERROR_HEADER_BYTES } from '../../../lib/core/failure-headers.js';
import { attemptOf, deadLetterCopy, retryCopy } from '../../../lib/rabbitmq/retry-headers.js';
import { delayQueueName, retryDelays } from '../../../lib/rabbitmq/retry-queues.js';

function delivery(
  headers: Record<string, unknown> = {},
  fields: { exchange?: string; routingKey?: string } = {},
  properties: Record<string, unknown> = {},
): ConsumeMessage {
  return {
    content: Buffer.from('{}'),
    fields: {
      deliveryTag: 1,
      redelivered: false,
      exchange: fields.exchange ?? 'orders',
      routingKey: fields.routingKey ?? 'orders.created',
      consumerTag: 'c',
    },
    properties: {
      contentType: 'application/json',
      contentEncoding: undefined,
      headers,
      deliveryMode: 2,
      priority: undefined,
      correlationId: 'corr',
      replyTo: undefined,
      expiration: undefined,
      messageId: 'm-1',
      timestamp: undefined,
      type: undefined,
      userId: 'someone-else',
      appId: undefined,
      clusterId: undefined,
      ...properties,
    },
  } as ConsumeMessage;
}

describe('retry and dead-letter headers', () => {
  it('attempt: the x-mq-attempt header, else 1 (garbage counts as 1)', () => {
    expect(attemptOf(delivery())).toBe(1);
    expect(attemptOf(delivery({ 'x-mq-attempt': 3 }))).toBe(3);
    expect(attemptOf(delivery({ 'x-mq-attempt': '2' }))).toBe(2);
    expect(attemptOf(delivery({ 'x-mq-attempt': 0 }))).toBe(1);
    expect(attemptOf(delivery({ 'x-mq-attempt': 'x' }))).toBe(1);
  });

  it('a retry copy goes to the delay queue with the next attempt and the original route', () => {
    const copy = retryCopy(
      delivery({ tenant: 'a', CC: ['other'], 'x-death': [{}] }),
      1,
      'q.retry.200',
    );
    expect(copy.exchange).toBe('');
    expect(copy.routingKey).toBe('q.retry.200');
    expect(copy.options).toMatchObject({
      mandatory: true,
      messageId: 'm-1',
      correlationId: 'corr',
      contentType: 'application/json',
      deliveryMode: 2,
    });
    expect(copy.options.userId).toBeUndefined();
    expect(copy.options.headers).toEqual({
      tenant: 'a',
      'x-mq-attempt': 2,
      'x-mq-original-exchange': 'orders',
      'x-mq-original-routing-key': 'orders.created',
    });
  });

  it('a message back from the delay queue keeps its first route', () => {
    const back = delivery(
      {
        'x-mq-attempt': 2,
        'x-mq-original-exchange': 'orders',
        'x-mq-original-routing-key': 'orders.created',
        'x-first-death-queue': 'q.retry.200',
      },
      { exchange: '', routingKey: 'q' },
    );
    const copy = retryCopy(back, 2, 'q.retry.400');
    expect(copy.options.headers).toEqual({
      'x-mq-attempt': 3,
      'x-mq-original-exchange': 'orders',
      'x-mq-original-routing-key': 'orders.created',
    });
  });

  it('a dead letter keeps the original headers and adds why and where from', () => {
    const failedAt = new Date('2026-01-02T03:04:05.000Z');
    const error = new NonRetriableError('bad order');
    const copy = deadLetterCopy(
      delivery({ tenant: 'a', 'x-mq-attempt': 3 }),
      { exchange: 'dlx', routingKey: undefined },
      { queue: 'q', attempts: 3, error, failedAt },
    );
    expect(copy.exchange).toBe('dlx');
    expect(copy.routingKey).toBe('orders.created');
    expect(copy.options.headers).toEqual({
      tenant: 'a',
      'x-mq-error': 'NonRetriableError: bad order',
      'x-mq-error-code': 'MQ_MESSAGE_NON_RETRIABLE',
      'x-mq-attempts': 3,
      'x-mq-original-queue': 'q',
      'x-mq-original-exchange': 'orders',
      'x-mq-original-routing-key': 'orders.created',
      'x-mq-failed-at': '2026-01-02T03:04:05.000Z',
    });
    const toQueue = deadLetterCopy(
      delivery(),
      { exchange: '', routingKey: 'q.dlq' },
      {
        queue: 'q',
        attempts: 1,
        error: 'plain string',
        failedAt,
      },
    );
    expect(toQueue.routingKey).toBe('q.dlq');
    // A thrown string has no code: the header still says something searchable.
    expect(toQueue.options.headers).toMatchObject({ 'x-mq-error-code': 'UNKNOWN' });
  });

  it('the error header is the name and message, cut to ~1 KB, never a stack', () => {
    const long = new Error('x'.repeat(5_000));
    expect(Buffer.byteLength(failureText(long))).toBeLessThanOrEqual(MAX_ERROR_HEADER_BYTES);
    expect(failureText(long)).not.toContain('\n    at ');
    expect(failureText(new Error('boom'))).toBe('Error: boom');
    expect(failureText({ secret: 'y' })).toBe('a thrown Object (not an Error)');
  });

  it('one delay queue per distinct delay', () => {
    expect(retryDelays({ attempts: 1, delayMs: 100 })).toEqual([]);
    expect(retryDelays({ attempts: 4, delayMs: 100 })).toEqual([100]);
    expect(retryDelays({ attempts: 5, delayMs: [100, 500] })).toEqual([100, 500]);
    expect(delayQueueName('orders', 500)).toBe('orders.retry.500');
  });
});

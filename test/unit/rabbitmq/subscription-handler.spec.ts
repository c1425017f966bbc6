import type { ConsumeMessage } from 'amqplib';
import { describe, expect, it } from 'vitest';
import { JSON_SERIALIZER } from '../../../lib/core/json-serializer.js';
import { NOOP_LOGGER } from '../../../lib/core/logger.js';
import { NOOP_RABBITMQ_METRICS } from '../../../lib/rabbitmq/rabbitmq-metrics.js';
import type { PublishOptions } from '../../../lib/rabbitmq/publish-message.js';
import { subscriptionHandler } from '../../../lib/rabbitmq/subscription-handler.js';
import { validateSubscribeOptions } from '../../../lib/rabbitmq/subscribe-options.validator.js';
import { FakeClock } from '../core/support/fake-clock.js';
import { observe } from '../core/support/observe.js';

function delivery(body: string, headers: Record<string, unknown> = {}): ConsumeMessage {
  return {
    content: Buffer.from(body),
    fields: { deliveryTag: 1, redelivered: false, exchange: '', routingKey: 'q', consumerTag: 'c' },
    properties: { contentType: 'application/json', headers },
  } as unknown as ConsumeMessage;
}

function rig(publish: (routingKey: string, options: PublishOptions) => Promise<void>) {
  const clock = new FakeClock();
  const counted: string[] = [];
  const run = subscriptionHandler(
    validateSubscribeOptions({ queue: 'q', retry: { attempts: 2, delayMs: 500 } }),
    async (payload: { fail?: boolean }) => {
      if (payload.fail === true) throw new Error('failed');
    },
    {
      serializer: JSON_SERIALIZER,
      publish: (_exchange, routingKey, _content, options) => publish(routingKey, options),
      requeueDelayMs: 1_000,
      metrics: {
        ...NOOP_RABBITMQ_METRICS,
        handled: () => void counted.push('handled'),
        handlerFailed: () => void counted.push('failed'),
        retried: () => void counted.push('retried'),
        deadLettered: () => void counted.push('deadLettered'),
      },
      clock,
      logger: NOOP_LOGGER,
    },
  );
  return { run, clock, counted };
}

describe('subscriptionHandler', () => {
  it('resolves (→ ack) when the handler resolves', async () => {
    const { run, counted } = rig(() => Promise.reject(new Error('no publish expected')));
    await expect(run(delivery('{}'))).resolves.toBeUndefined();
    expect(counted).toEqual(['handled']);
  });

  it('publishes the retry copy, then the dead letter, and resolves only after each is confirmed', async () => {
    const sent: Array<[string, unknown]> = [];
    const { run, counted } = rig(async (routingKey, options) => {
      sent.push([routingKey, (options.headers as Record<string, unknown>)['x-mq-attempt']]);
    });
    await run(delivery('{"fail":true}'));
    await run(delivery('{"fail":true}', { 'x-mq-attempt': 2 }));
    expect(sent).toEqual([
      ['q.retry.500', 2],
      ['q.dlq', undefined],
    ]);
    expect(counted).toEqual(['failed', 'retried', 'failed', 'deadLettered']);
  });

  it('rejects (→ requeue) when the copy cannot be published, after the requeue pause', async () => {
    const { run, clock, counted } = rig(() => Promise.reject(new Error('unroutable')));
    const result = observe(run(delivery('{"fail":true}')) as Promise<void>);
    await clock.tick(999);
    expect(result.status).toBe('pending'); // pausing, so the redelivery cannot loop hot
    await clock.tick(1);
    expect(result.status).toBe('rejected');
    expect(result.error).toMatchObject({ message: 'unroutable' });
    expect(counted).toEqual(['failed']);
  });
});

import { describe, expect, it } from 'vitest';
import { InvalidPoolOptionsError } from '../../../lib/core/errors/invalid-pool-options.error.js';
import { NO_RETRY } from '../../../lib/core/handler-retry-policy.js';
import { validateKafkaSubscribeOptions } from '../../../lib/kafka/kafka-subscribe-options.validator.js';

const handler = async (): Promise<void> => undefined;

function keyOf(options: unknown, fn: unknown = handler): string {
  try {
    validateKafkaSubscribeOptions(options, fn);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidPoolOptionsError);
    return (error as InvalidPoolOptionsError).key;
  }
  throw new Error('expected InvalidPoolOptionsError');
}

describe('validateKafkaSubscribeOptions', () => {
  it('resolves defaults: one topic as a list, no retry, `${topic}.dlq` per topic, one partition at a time', () => {
    const resolved = validateKafkaSubscribeOptions(
      { topics: 'orders', groupId: 'billing' },
      handler,
    );
    expect(resolved).toMatchObject({
      groupId: 'billing',
      topics: ['orders'],
      fromBeginning: false,
      retry: NO_RETRY,
      partitionsConsumedConcurrently: 1,
    });
    expect([...resolved.deadLetterTopics]).toEqual([['orders', 'orders.dlq']]);
  });

  it('takes a shared dead-letter topic, or false, for every topic', () => {
    const shared = validateKafkaSubscribeOptions(
      { topics: ['a', 'b', 'a'], groupId: 'g', deadLetterTopic: 'all.dlq' },
      handler,
    );
    expect(shared.topics).toEqual(['a', 'b']);
    expect([...shared.deadLetterTopics]).toEqual([
      ['a', 'all.dlq'],
      ['b', 'all.dlq'],
    ]);
    const dropped = validateKafkaSubscribeOptions(
      {
        topics: ['a'],
        groupId: 'g',
        deadLetterTopic: false,
        retry: { attempts: 3, delayMs: [10, 20] },
      },
      handler,
    );
    expect(dropped.deadLetterTopics.get('a')).toBe(false);
    expect(dropped.retry).toEqual({ attempts: 3, delayMs: [10, 20] });
  });

  it('names the offending key after the group', () => {
    expect(keyOf({ topics: 'a' })).toBe('subscribe.groupId');
    expect(keyOf({ topics: 'a', groupId: '' })).toBe('subscribe.groupId');
    expect(keyOf(null)).toBe('subscribe');
    expect(keyOf({ groupId: 'g' })).toBe('subscribe(g).topics');
    expect(keyOf({ groupId: 'g', topics: [] })).toBe('subscribe(g).topics');
    expect(keyOf({ groupId: 'g', topics: ['a', /b/] })).toBe('subscribe(g).topics[1]');
    expect(keyOf({ groupId: 'g', topics: 'has space' })).toBe('subscribe(g).topics');
    expect(keyOf({ groupId: 'g', topics: 'a', retry: { delayMs: 5 } })).toBe(
      'subscribe(g).retry.attempts',
    );
    expect(keyOf({ groupId: 'g', topics: 'a', retry: { attempts: 0, delayMs: 5 } })).toBe(
      'subscribe(g).retry.attempts',
    );
    expect(keyOf({ groupId: 'g', topics: 'a', retry: { attempts: 2, delayMs: [] } })).toBe(
      'subscribe(g).retry.delayMs',
    );
    expect(keyOf({ groupId: 'g', topics: 'a', deadLetterTopic: true })).toBe(
      'subscribe(g).deadLetterTopic',
    );
    expect(keyOf({ groupId: 'g', topics: 'x'.repeat(249) })).toBe('subscribe(g).deadLetterTopic');
    expect(keyOf({ groupId: 'g', topics: 'a', partitionsConsumedConcurrently: 0 })).toBe(
      'subscribe(g).partitionsConsumedConcurrently',
    );
    expect(keyOf({ groupId: 'g', topics: 'a', queue: 'x' })).toBe('subscribe(g).queue');
    expect(keyOf({ groupId: 'g', topics: 'a' }, 'not a function')).toBe('subscribe(g).handler');
  });

  it('refuses a dead-letter topic that is one of the subscribed topics (a loop)', () => {
    expect(() =>
      validateKafkaSubscribeOptions(
        { topics: ['a', 'b'], groupId: 'g', deadLetterTopic: 'b' },
        handler,
      ),
    ).toThrow(/failed records would come back to this handler/);
  });
});

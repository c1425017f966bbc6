import { Injectable, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { afterAll, describe, expect, it } from 'vitest';
import {
  KafkaPool,
  KafkaSubscribe,
  MqPoolModule,
  type KafkaMessageContext,
} from '../../../lib/index.js';
import { kafkaBrokers } from '../../support/broker-env.js';
import { createTopics, deleteGroups, uniqueName, waitFor } from '../kafka/kafka-test-support.js';

/** `@KafkaSubscribe` end to end against the real Kafka: a record sent by the pool reaches the handler. */
let app: INestApplication | undefined;
const cleanup: Array<() => Promise<unknown>> = [];

afterAll(async () => {
  await app?.close();
  for (const step of cleanup.splice(0)) await step().catch(() => undefined);
});

describe('@KafkaSubscribe against Kafka', () => {
  it('receives a JSON record with its topic, partition and offset', async () => {
    const topic = uniqueName('it-nest-events');
    const groupId = uniqueName('it-nest-group');
    cleanup.push(await createTopics([{ topic }, { topic: `${topic}.dlq` }]));
    cleanup.push(() => deleteGroups([groupId]));

    const received: Array<[unknown, KafkaMessageContext]> = [];
    @Injectable()
    class Events {
      @KafkaSubscribe({ topics: topic, groupId, fromBeginning: true })
      async on(event: unknown, context: KafkaMessageContext): Promise<void> {
        received.push([event, context]);
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        MqPoolModule.forRoot({
          kafka: { brokers: kafkaBrokers(), clientId: 'it-nest-messaging' },
          metrics: { enabled: false },
        }),
      ],
      providers: [Events],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const pool = app.get(KafkaPool);

    await pool.send({
      topic,
      messages: [{ key: 'k-1', value: JSON.stringify({ type: 'created', id: 7 }) }],
    });
    await waitFor(() => received.length === 1, 30_000, 'the record handled');
    const [event, context] = received[0]!;
    expect(event).toEqual({ type: 'created', id: 7 });
    expect(context).toMatchObject({ topic, partition: 0, offset: '0', attempt: 1 });
    expect(context.key?.toString()).toBe('k-1');
  }, 60_000);
});

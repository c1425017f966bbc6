import {
  Controller,
  Get,
  Injectable,
  type INestApplication,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import type { ConsumeMessage } from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import {
  KafkaPool,
  MqPoolModule,
  RabbitMqHealthIndicator,
  RabbitMqPool,
} from '../../../lib/index.js';
import { createTopics, rawKafka } from '../../integration/kafka/kafka-test-support.js';
import {
  amqpUrl,
  kafkaBrokers,
  memoryLogger,
  rawRabbit,
  unique,
  waitFor,
} from './support/e2e-support.js';

/**
 * Graceful shutdown (DESIGN §4, STYLE 15): app.close() stays pending while a consumer handler is
 * blocked, readiness is down meanwhile, and the message is acked exactly once after the handler
 * finished.
 */
const queue = unique('e2e-nest-shutdown');
const handled: string[] = [];
let releaseHandler: () => void = () => undefined;
let handlerEntered = false;

@Injectable()
class SlowConsumer implements OnApplicationBootstrap {
  constructor(private readonly pool: RabbitMqPool) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.pool.consume(
      queue,
      async (msg: ConsumeMessage) => {
        handled.push(msg.content.toString());
        handlerEntered = true;
        await new Promise<void>((r) => (releaseHandler = r));
      },
      { prefetch: 1 },
    );
  }
}

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly rabbit: RabbitMqHealthIndicator,
  ) {}

  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check([() => this.rabbit.isHealthy('rabbitmq', { timeoutMs: 1_000 })]);
  }

  @Get('live')
  live() {
    return { status: 'ok' };
  }
}

let app: INestApplication | undefined;
afterAll(async () => {
  await app?.close();
  const raw = await rawRabbit();
  const ch = await raw.model.createChannel();
  await ch.deleteQueue(queue).catch(() => undefined);
  await raw.close();
});

describe('graceful shutdown against RabbitMQ', () => {
  it('app.close() stays pending while a handler is blocked, readiness goes down, then it resolves and the message is acked once', async () => {
    const raw = await rawRabbit();
    const setup = await raw.model.createChannel();
    await setup.assertQueue(queue, { durable: true });
    await raw.close();

    const logger = memoryLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [
        TerminusModule.forRoot({ logger: false }),
        MqPoolModule.forRoot({
          rabbitmq: { url: amqpUrl() },
          shutdown: { drainTimeoutMs: 15_000 },
          metrics: { enabled: false },
          logger,
        }),
      ],
      controllers: [HealthController],
      providers: [SlowConsumer],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    const base = await app.getUrl();
    const pool = app.get(RabbitMqPool);

    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    await pool.sendToQueue(queue, 'order-1', { persistent: true });
    await waitFor(() => handlerEntered, 10_000, 'handler entered');

    let closed = false;
    const closing = app.close().then(() => {
      closed = true;
    });
    await waitFor(() => pool.stats().draining, 5_000, 'drain started');
    await new Promise((r) => setTimeout(r, 500));
    expect(closed).toBe(false);

    // The HTTP server still answers during the drain: readiness is down, liveness is not.
    const ready = await fetch(`${base}/health/ready`);
    expect(ready.status).toBe(503);
    const body = (await ready.json()) as {
      error: { rabbitmq: { status: string; reason: string } };
    };
    expect(body.error.rabbitmq.status).toBe('down');
    expect(body.error.rabbitmq.reason).toMatch(/shutting down|draining/);
    expect((await fetch(`${base}/health/live`)).status).toBe(200);

    releaseHandler();
    await closing;
    app = undefined;
    expect(closed).toBe(true);
    expect(handled).toEqual(['order-1']);

    // Acked exactly once: nothing left in the queue, nothing redelivered to a new consumer.
    const check = await rawRabbit();
    const ch = await check.model.createChannel();
    const q = await ch.checkQueue(queue);
    expect(q.messageCount).toBe(0);
    expect(await ch.get(queue)).toBe(false);
    await check.close();

    // One drain report, with stats before and after.
    const reports = logger.lines.filter((l) => l.includes('message-broker pools drained'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatch(/"before":\{.*"consumers":\{"total":1.*"after":\{/);
    expect(logger.lines.join('\n')).not.toContain('guest:guest');
  }, 60_000);
});

describe('graceful shutdown of both brokers under one budget', () => {
  it('a blocked Kafka handler and a blocked RabbitMQ handler both hold app.close(); offsets are committed, the message acked, one report', async () => {
    const topic = unique('e2e-nest-shutdown');
    const groupId = unique('e2e-nest-shutdown-group');
    const rabbitQueue = unique('e2e-nest-shutdown-both');
    const dropTopic = await createTopics([{ topic }]);
    const raw = await rawRabbit();
    await (await raw.model.createChannel()).assertQueue(rabbitQueue, { durable: false });
    await raw.close();

    const gates: Record<string, () => void> = {};
    const seen: string[] = [];
    @Injectable()
    class Consumers implements OnApplicationBootstrap {
      constructor(
        private readonly rabbit: RabbitMqPool,
        private readonly kafka: KafkaPool,
      ) {}
      async onApplicationBootstrap(): Promise<void> {
        await this.rabbit.consume(rabbitQueue, async () => {
          seen.push('rabbitmq');
          await new Promise<void>((r) => (gates.rabbitmq = r));
        });
        await this.kafka.consume({
          groupId,
          topics: [topic],
          fromBeginning: true,
          eachMessage: async () => {
            seen.push('kafka');
            await new Promise<void>((r) => (gates.kafka = r));
          },
        });
      }
    }

    const logger = memoryLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [
        MqPoolModule.forRoot({
          rabbitmq: { url: amqpUrl() },
          kafka: { brokers: kafkaBrokers() },
          shutdown: { drainTimeoutMs: 20_000 },
          metrics: { enabled: false },
          logger,
        }),
      ],
      providers: [Consumers],
    }).compile();
    const both = moduleRef.createNestApplication({ logger: false });
    await both.init();
    const rabbit = both.get(RabbitMqPool);
    await rabbit.sendToQueue(rabbitQueue, 'm');
    await both.get(KafkaPool).send({ topic, messages: [{ value: 'e' }] });
    await waitFor(
      () => gates.rabbitmq !== undefined && gates.kafka !== undefined,
      30_000,
      'both handlers entered',
    );

    let closed = false;
    const closing = both.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 500));
    expect(closed).toBe(false);
    gates.rabbitmq!();
    await new Promise((r) => setTimeout(r, 300));
    expect(closed).toBe(false); // Kafka's handler still holds the drain
    gates.kafka!();
    await closing;
    expect(seen.sort()).toEqual(['kafka', 'rabbitmq']);

    const reports = logger.lines.filter((l) => l.includes('message-broker pools drained'));
    expect(reports).toHaveLength(1);
    expect(reports[0]).toContain('"broker":"rabbitmq"');
    expect(reports[0]).toContain('"broker":"kafka"');
    expect(reports[0]).not.toContain('deadline passed');

    const admin = rawKafka().admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchOffsets({ groupId, topics: [topic] });
      expect(offsets[0]?.partitions[0]?.offset).toBe('1');
      await admin.deleteGroups([groupId]).catch(() => undefined);
    } finally {
      await admin.disconnect();
    }
    await dropTopic();
    const check = await rawRabbit();
    const ch = await check.model.createChannel();
    expect((await ch.checkQueue(rabbitQueue)).messageCount).toBe(0);
    await ch.deleteQueue(rabbitQueue);
    await check.close();
  }, 90_000);
});

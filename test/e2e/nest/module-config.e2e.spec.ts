import { Controller, HttpCode, type INestApplication, Injectable, Post } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConnectionUnavailableError,
  InjectKafkaPool,
  InjectRabbitMqPool,
  InvalidPoolOptionsError,
  KafkaPool,
  MqPoolModule,
  RabbitMqPool,
  WithChannel,
} from '../../../lib/index.js';
import {
  amqpUrl,
  amqpUrlVia,
  closedPort,
  kafkaBrokers,
  memoryLogger,
  rawRabbit,
  unique,
} from './support/e2e-support.js';

/**
 * Module configuration against real brokers: forRootAsync with ConfigService, named registrations
 * side by side (each its own connections, queues and Kafka client), and startup errors that say
 * what to fix without leaking credentials.
 */
const ordersQueue = unique('e2e-nest-orders');
const auditQueue = unique('e2e-nest-audit');
const topic = unique('e2e-nest-config');

@Injectable()
class AuditService {
  constructor(@InjectRabbitMqPool('audit') readonly pool: RabbitMqPool) {}

  @WithChannel('audit')
  async record(text: string): Promise<void> {
    const ch = this.pool.currentChannel()!;
    ch.sendToQueue(auditQueue, Buffer.from(text));
    await ch.waitForConfirms();
  }
}

@Controller()
class OrdersController {
  constructor(
    private readonly orders: RabbitMqPool,
    @InjectKafkaPool('audit') private readonly events: KafkaPool,
    private readonly audit: AuditService,
  ) {}

  @Post('orders')
  @HttpCode(201)
  async create(): Promise<{ ok: true }> {
    await this.orders.sendToQueue(ordersQueue, 'order');
    await this.audit.record('order created');
    await this.events.send({ topic, messages: [{ value: 'order created' }] });
    return { ok: true };
  }
}

let app: INestApplication;
const logger = memoryLogger();

beforeAll(async () => {
  const raw = await rawRabbit();
  const ch = await raw.model.createChannel();
  await ch.assertQueue(ordersQueue, { durable: false });
  await ch.assertQueue(auditQueue, { durable: false });
  await raw.close();

  const moduleRef = await Test.createTestingModule({
    imports: [
      ConfigModule.forRoot({
        isGlobal: true,
        ignoreEnvFile: true,
        load: [
          () => ({
            ORDERS_AMQP_URL: amqpUrl(),
            AUDIT_AMQP_URL: amqpUrl(),
            AUDIT_KAFKA_BROKERS: kafkaBrokers().join(','),
          }),
        ],
      }),
      MqPoolModule.forRootAsync({
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          rabbitmq: { url: config.getOrThrow<string>('ORDERS_AMQP_URL') },
          logger,
        }),
      }),
      MqPoolModule.forRootAsync({
        name: 'audit',
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          rabbitmq: { url: config.getOrThrow<string>('AUDIT_AMQP_URL'), channelsPerConnection: 2 },
          kafka: {
            brokers: config.getOrThrow<string>('AUDIT_KAFKA_BROKERS').split(','),
            allowAutoTopicCreation: true,
          },
          logger,
        }),
      }),
    ],
    controllers: [OrdersController],
    providers: [AuditService],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
}, 120_000);

afterAll(async () => {
  await app?.close();
  const raw = await rawRabbit();
  const ch = await raw.model.createChannel();
  await ch.deleteQueue(ordersQueue).catch(() => undefined);
  await ch.deleteQueue(auditQueue).catch(() => undefined);
  await raw.close();
  expect(logger.lines.join('\n')).not.toContain('guest:guest');
});

describe('forRootAsync with ConfigService, named pools side by side', () => {
  it('each registration has its own pools, used together in one request', async () => {
    const res = await fetch(`${await app.getUrl()}/orders`, { method: 'POST' });
    expect(res.status).toBe(201);
    const orders = app.get(RabbitMqPool);
    const audit = app.get(AuditService).pool;
    expect(orders).not.toBe(audit);
    expect(orders.stats().channels.max).toBe(16);
    expect(audit.stats().channels.max).toBe(2);
    expect(audit.stats().channels.leased).toBe(0);
    const raw = await rawRabbit();
    const ch = await raw.model.createChannel();
    expect((await ch.checkQueue(ordersQueue)).messageCount).toBe(1);
    expect((await ch.checkQueue(auditQueue)).messageCount).toBe(1);
    await raw.close();
  });
});

describe('startup errors', () => {
  it('an unreachable broker fails startup within its connect deadline, with the cause and no credentials; nothing stays registered', async () => {
    const port = await closedPort();
    const moduleRef = await Test.createTestingModule({
      imports: [
        MqPoolModule.forRoot({
          name: 'unreachable',
          rabbitmq: { url: amqpUrlVia(port), connectTimeoutMs: 500 },
          logger: memoryLogger(),
        }),
      ],
    }).compile();
    const failing = moduleRef.createNestApplication({ logger: false });
    const started = Date.now();
    const error = await failing.init().then(
      () => undefined,
      (e: unknown) => e,
    );
    await failing.close();
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(ConnectionUnavailableError);
    expect(String((error as Error).message)).not.toContain('guest');

    // The name is free again: an app with a working broker can take it.
    const retry = await Test.createTestingModule({
      imports: [
        MqPoolModule.forRoot({
          name: 'unreachable',
          rabbitmq: { url: amqpUrl() },
          logger: memoryLogger(),
        }),
      ],
    }).compile();
    const ok = retry.createNestApplication({ logger: false });
    await ok.init();
    await ok.close();
  }, 30_000);

  it('two running apps cannot both own a pool name (decorators find pools by name)', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        MqPoolModule.forRoot({
          name: 'audit',
          rabbitmq: { url: amqpUrl() },
          logger: memoryLogger(),
        }),
      ],
    }).compile();
    const second = moduleRef.createNestApplication({ logger: false });
    const error = await second.init().then(
      () => undefined,
      (e: unknown) => e,
    );
    await second.close();
    expect(error).toBeInstanceOf(InvalidPoolOptionsError);
    expect((error as Error).message).toMatch(
      /"audit" is already registered by another running application.*Fix: close the other application first/,
    );
    // The first app's pool is untouched.
    expect(app.get(AuditService).pool.stats().closed).toBe(false);
  }, 30_000);

  it('invalid options fail at startup naming the key and the fix', async () => {
    const error = await Test.createTestingModule({
      imports: [
        MqPoolModule.forRootAsync({
          name: 'invalid',
          useFactory: () => ({ rabbitmq: { url: amqpUrl(), channelsPerConnection: 0 } }),
        }),
      ],
    })
      .compile()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(InvalidPoolOptionsError);
    expect((error as InvalidPoolOptionsError).key).toBe('rabbitmq.channelsPerConnection');
    expect((error as Error).message).toMatch(/Fix: /);
  });
});

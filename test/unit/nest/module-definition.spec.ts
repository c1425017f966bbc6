import { Inject, Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_FILTER } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  getPoolToken,
  InjectKafkaPool,
  InjectRabbitMqPool,
  KafkaPool,
  MqPoolModule,
  type MqPoolOptionsFactory,
  PoolNotRegisteredError,
  RabbitMqPool,
} from '../../../lib/index.js';

// Nothing here connects: pools are built at compile time but only start in onModuleInit.
const rabbitmq = { url: 'amqp://guest:guest@127.0.0.1:1' };
const kafka = { brokers: ['127.0.0.1:1'] };

type ProviderLike = { provide?: unknown };
const provided = (providers: unknown[] | undefined): unknown[] =>
  (providers ?? []).map((p) => (p as ProviderLike).provide ?? p);

const toClose: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(toClose.splice(0).map((m) => m.close()));
});

describe('MqPoolModule definition', () => {
  it('forRoot: the default registration provides both pool tokens, the classes and the 503 filter', () => {
    const dyn = MqPoolModule.forRoot({ rabbitmq });
    expect(dyn.global).toBe(false);
    const tokens = provided(dyn.providers);
    expect(tokens).toEqual(
      expect.arrayContaining([
        getPoolToken('rabbitmq'),
        getPoolToken('kafka'),
        RabbitMqPool,
        KafkaPool,
        APP_FILTER,
      ]),
    );
    expect(dyn.exports).toEqual(expect.arrayContaining([getPoolToken('rabbitmq'), RabbitMqPool]));
  });

  it('forRootAsync: static extras (name, isGlobal, httpBackpressure) arrive before the factory runs', () => {
    let factoryRan = false;
    const dyn = MqPoolModule.forRootAsync({
      name: 'orders',
      isGlobal: true,
      httpBackpressure: false,
      useFactory: () => {
        factoryRan = true;
        return { rabbitmq };
      },
    });
    expect(factoryRan).toBe(false);
    expect(dyn.global).toBe(true);
    const tokens = provided(dyn.providers);
    expect(tokens).toContain(getPoolToken('rabbitmq', 'orders'));
    expect(tokens).toContain(getPoolToken('kafka', 'orders'));
    expect(tokens).not.toContain(RabbitMqPool); // only the default registration aliases the class
    expect(tokens).not.toContain(APP_FILTER);
  });

  it('forRootAsync with ConfigService: a named global pool is injectable elsewhere, by name', async () => {
    @Injectable()
    class Publisher {
      constructor(@InjectRabbitMqPool('orders') readonly pool: RabbitMqPool) {}
    }
    @Module({ providers: [Publisher] })
    class FeatureModule {}

    const moduleRef = await Test.createTestingModule({
      imports: [
        ConfigModule.forRoot({
          ignoreEnvFile: true,
          load: [() => ({ ORDERS_AMQP_URL: rabbitmq.url })],
        }),
        MqPoolModule.forRootAsync({
          name: 'orders',
          isGlobal: true,
          imports: [ConfigModule],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            rabbitmq: { url: config.getOrThrow<string>('ORDERS_AMQP_URL') },
          }),
        }),
        FeatureModule,
      ],
    }).compile();
    toClose.push(moduleRef);
    const pool = moduleRef.get(Publisher).pool;
    expect(pool).toBeInstanceOf(RabbitMqPool);
    expect(pool.name).toBe('orders');
  });

  it('useClass / useExisting factories (createMqPoolOptions) work too', async () => {
    @Injectable()
    class OptionsFactory implements MqPoolOptionsFactory {
      createMqPoolOptions() {
        return { kafka };
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [MqPoolModule.forRootAsync({ useClass: OptionsFactory })],
    }).compile();
    toClose.push(moduleRef);
    expect(moduleRef.get(KafkaPool)).toBeInstanceOf(KafkaPool);
  });

  it('named registrations side by side give independent pools', async () => {
    @Injectable()
    class Both {
      constructor(
        @Inject(RabbitMqPool) readonly main: RabbitMqPool,
        @InjectRabbitMqPool('audit') readonly audit: RabbitMqPool,
        @InjectKafkaPool('audit') readonly auditKafka: KafkaPool,
      ) {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        MqPoolModule.forRoot({ rabbitmq }),
        MqPoolModule.forRoot({ name: 'audit', rabbitmq, kafka }),
      ],
      providers: [Both],
    }).compile();
    toClose.push(moduleRef);
    const both = moduleRef.get(Both);
    expect(both.main).not.toBe(both.audit);
    expect([both.main.name, both.audit.name, both.auditKafka.name]).toEqual([
      'default',
      'audit',
      'audit',
    ]);
  });

  it('injecting a pool whose broker the registration does not configure fails startup, naming the class and the fix', async () => {
    @Injectable()
    class NeedsKafka {
      constructor(@Inject(KafkaPool) readonly kafka: KafkaPool) {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [MqPoolModule.forRoot({ rabbitmq })],
      providers: [NeedsKafka],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    const error = await app.init().then(
      () => undefined,
      (e: unknown) => e,
    );
    await app.close();
    expect(error).toBeInstanceOf(PoolNotRegisteredError);
    expect((error as Error).message).toMatch(
      /No Kafka pool "default": NeedsKafka \(in .*\) needs it, but registration "default" has no `kafka` options\. Fix: add them: MqPoolModule\.forRoot\(\{ kafka: \{ brokers/,
    );
  });

  it('injecting an unknown pool name fails at compile time with a message naming its token', async () => {
    @Injectable()
    class NeedsUnknown {
      constructor(@InjectRabbitMqPool('nope') readonly pool: RabbitMqPool) {}
    }
    const error = await Test.createTestingModule({
      imports: [MqPoolModule.forRoot({ rabbitmq })],
      providers: [NeedsUnknown],
    })
      .compile()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((error as Error).message).toMatch(/NeedsUnknown.*nestjs-mq-pool:rabbitmq:nope/s);
  });

  it('bad options fail at startup with InvalidPoolOptionsError naming the key', async () => {
    const error = await Test.createTestingModule({
      imports: [
        MqPoolModule.forRootAsync({
          useFactory: () => ({ rabbitmq: { ...rabbitmq, connections: 0 } }),
        }),
      ],
    })
      .compile()
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect((error as Error).message).toMatch(/Invalid option "rabbitmq\.connections"/);
  });
});

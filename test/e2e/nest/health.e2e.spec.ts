import { Controller, Get, type INestApplication, Query } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  getPoolToken,
  KafkaHealthIndicator,
  type KafkaPool,
  MqPoolModule,
  RabbitMqHealthIndicator,
  SendTimeoutError,
} from '../../../lib/index.js';
import {
  amqpUrl,
  amqpUrlVia,
  BlackholeProxy,
  brokerAddress,
  closedPort,
  kafkaBrokers,
  memoryLogger,
  unique,
  waitFor,
} from './support/e2e-support.js';

/**
 * Readiness against real brokers: up when the pool works; down within the ping timeout when the
 * broker stops answering (a blackholing proxy of our own, the shared broker is never touched);
 * down at once for a pool whose broker is unreachable (a closed port). Details never hold URLs.
 */
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly rabbit: RabbitMqHealthIndicator,
    private readonly kafka: KafkaHealthIndicator,
  ) {}

  @Get('rabbit')
  @HealthCheck()
  rabbitReady(@Query('pool') pool: string) {
    return this.health.check([() => this.rabbit.isHealthy('rabbitmq', { pool, timeoutMs: 500 })]);
  }

  @Get('kafka')
  @HealthCheck()
  kafkaReady(@Query('pool') pool: string) {
    return this.health.check([() => this.kafka.isHealthy('kafka', { pool, timeoutMs: 2_000 })]);
  }
}

let app: INestApplication;
let base: string;
let proxy: BlackholeProxy;
const logger = memoryLogger();

beforeAll(async () => {
  proxy = await new BlackholeProxy(brokerAddress()).start();
  const deadPort = await closedPort();
  const quiet = { metrics: { enabled: false }, logger } as const;
  const moduleRef = await Test.createTestingModule({
    imports: [
      TerminusModule.forRoot({ logger: false }),
      MqPoolModule.forRoot({
        rabbitmq: { url: amqpUrl() },
        kafka: { brokers: kafkaBrokers() },
        ...quiet,
      }),
      // Heartbeats off for the proxied pool, so only the bounded ping can notice the blackhole.
      MqPoolModule.forRoot({
        name: 'proxied',
        rabbitmq: { url: amqpUrlVia(proxy.port), heartbeatSeconds: 0, confirmTimeoutMs: 1_000 },
        shutdown: { drainTimeoutMs: 2_000 },
        ...quiet,
      }),
      // Sends that cannot be acknowledged in time (1 ms): a failed send on a working broker.
      MqPoolModule.forRoot({
        name: 'hasty',
        kafka: { brokers: kafkaBrokers(), sendTimeoutMs: 1 },
        ...quiet,
      }),
      MqPoolModule.forRoot({
        name: 'dead',
        rabbitmq: { url: amqpUrlVia(deadPort), connectTimeoutMs: 300, confirmTimeoutMs: 1_000 },
        kafka: {
          brokers: [`127.0.0.1:${deadPort}`],
          startTimeoutMs: 300,
          connectTimeoutMs: 200,
          sendTimeoutMs: 1_000,
          consumer: { stopTimeoutMs: 1_000 },
        },
        startup: { failFast: false },
        shutdown: { drainTimeoutMs: 2_000 },
        ...quiet,
      }),
    ],
    controllers: [HealthController],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  base = await app.getUrl();
}, 60_000);

afterAll(async () => {
  await proxy?.stop(); // the blackholed connection now fails fast instead of waiting out the drain
  await app?.close();
  expect(logger.lines.join('\n')).not.toContain('guest:guest');
});

async function check(path: string): Promise<{ status: number; body: string; ms: number }> {
  const started = Date.now();
  const res = await fetch(`${base}${path}`);
  return { status: res.status, body: await res.text(), ms: Date.now() - started };
}

describe('health indicators against real brokers', () => {
  it('RabbitMQ and Kafka pools that work are up, with stats as details', async () => {
    const rabbit = await check('/health/rabbit');
    expect(rabbit.status).toBe(200);
    expect(JSON.parse(rabbit.body)).toMatchObject({
      status: 'ok',
      info: { rabbitmq: { status: 'up', connections: 1 } },
    });
    await waitFor(async () => (await check('/health/kafka')).status === 200, 20_000, 'kafka up');
    const kafka = JSON.parse((await check('/health/kafka')).body) as {
      info: { kafka: { status: string; producer: { state: string } } };
    };
    expect(kafka.info.kafka).toMatchObject({ status: 'up', producer: { state: 'connected' } });
  });

  it('a pool whose broker is unreachable (closed port) is down at once, without hosts or credentials in the output', async () => {
    for (const path of ['/health/rabbit?pool=dead', '/health/kafka?pool=dead']) {
      const res = await check(path);
      expect(res.status).toBe(503);
      expect(res.ms).toBeLessThan(1_000);
      expect(res.body).toMatch(/"status":"down"/);
      expect(res.body).not.toMatch(/guest|amqp:\/\/|127\.0\.0\.1/);
    }
  });

  it('a broker that stops answering turns the check down within the ping timeout', async () => {
    expect((await check('/health/rabbit?pool=proxied')).status).toBe(200);
    proxy.blackhole();
    const res = await check('/health/rabbit?pool=proxied');
    expect(res.status).toBe(503);
    expect(res.body).toMatch(/ping (timed out|failed)/);
    expect(res.ms).toBeLessThan(500 + 400);
  });

  it('after a failed Kafka send, readiness comes back through the ping alone (a pool out of rotation gets no sends)', async () => {
    await waitFor(
      async () => (await check('/health/kafka?pool=hasty')).status === 200,
      20_000,
      'kafka up',
    );
    const kafka = app.get<KafkaPool>(getPoolToken('kafka', 'hasty'));
    const failed = await kafka
      .send({ topic: unique('e2e-health-timeout'), messages: [{ value: 'x' }] })
      .catch((e: unknown) => e);
    expect(failed).toBeInstanceOf(SendTimeoutError);
    // A timed-out send replaces the idempotent producer (new producer id); once it is connected, only
    // the past failure keeps the pool down.
    await waitFor(() => kafka.stats().producer.state === 'connected', 10_000, 'producer back');
    expect(kafka.health()).toMatchObject({ healthy: false, pingClears: true });
    const res = await check('/health/kafka?pool=hasty');
    expect(res.status, res.body).toBe(200);
    expect(kafka.health().healthy).toBe(true);
  });

  it('an unknown pool name is a programming error, reported as such', async () => {
    const res = await check('/health/rabbit?pool=nope');
    expect(res.status).toBe(500);
  });
});

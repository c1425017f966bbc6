import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { register as globalRegistry, Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KafkaPool, MQ_METRIC, MqPoolModule, RabbitMqPool } from '../../../lib/index.js';
import {
  amqpUrl,
  kafkaBrokers,
  memoryLogger,
  rawRabbit,
  unique,
  waitFor,
} from './support/e2e-support.js';
import { toolAvailable } from '../../support/skip-reasons.js';

/**
 * /metrics served by the app's own PrometheusModule.register() (global registry) exposes every
 * metric of DESIGN §3 with pool/broker labels after real traffic; a second app in the same process
 * re-uses the metrics instead of failing on duplicate registration; a registry passed in the
 * options receives them instead of the global one. `promtool check metrics` lints the output
 * when Prometheus' promtool is installed.
 */
const queue = unique('e2e-nest-metrics');
const topic = unique('e2e-nest-metrics');
const hasPromtool = toolAvailable('promtool');
const run = promisify(execFile);

async function startApp(
  extra: Parameters<typeof MqPoolModule.forRoot>[0] = {},
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      PrometheusModule.register({ defaultMetrics: { enabled: false } }),
      MqPoolModule.forRoot({
        rabbitmq: { url: amqpUrl() },
        kafka: { brokers: kafkaBrokers(), allowAutoTopicCreation: true },
        logger: memoryLogger(),
        ...extra,
      }),
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  return app;
}

let app: INestApplication;
let text = '';

beforeAll(async () => {
  const raw = await rawRabbit();
  await (await raw.model.createChannel()).assertQueue(queue, { durable: false });
  await raw.close();

  app = await startApp();
  const rabbit = app.get(RabbitMqPool);
  const kafka = app.get(KafkaPool);

  // Real traffic for every series: leases, confirmed publishes, a failed publish, a consume, a Kafka send.
  await rabbit.withChannel(async (ch) => {
    ch.sendToQueue(queue, Buffer.from('leased'));
    await ch.waitForConfirms();
  });
  await rabbit.sendToQueue(queue, 'piped');
  await rabbit.publish(unique('no-such-exchange'), 'x', 'lost').catch(() => undefined);
  let consumed = 0;
  const consumer = await rabbit.consume(queue, () => {
    consumed++;
  });
  await waitFor(() => consumed >= 2, 10_000, 'consumed');
  await consumer.cancel();
  await kafka.send({ topic, messages: [{ value: 'hello' }] });

  text = await (await fetch(`${await app.getUrl()}/metrics`)).text();
}, 120_000);

afterAll(async () => {
  await app?.close();
  const raw = await rawRabbit();
  await (await raw.model.createChannel()).deleteQueue(queue).catch(() => undefined);
  await raw.close();
});

function sample(name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && l.includes(labels));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('/metrics through PrometheusModule.register()', () => {
  it('exposes every listed metric with HELP and TYPE', () => {
    for (const name of Object.values(MQ_METRIC)) {
      expect(text, name).toContain(`# HELP ${name} `);
      expect(text, name).toMatch(new RegExp(`# TYPE ${name} (gauge|counter|histogram)`));
    }
  });

  it('with sane values, labelled by pool and broker only (plus one bounded label)', () => {
    const rabbit = 'pool="default",broker="rabbitmq"';
    expect(sample(MQ_METRIC.connections, rabbit)).toBe(1);
    // publish()/sendToQueue() keep their pipelined channels leased from the same pool.
    const leased = sample(MQ_METRIC.channels, `${rabbit},state="leased"`)!;
    const idle = sample(MQ_METRIC.channels, `${rabbit},state="idle"`)!;
    expect(leased + idle).toBeGreaterThanOrEqual(1);
    expect(leased + idle).toBeLessThanOrEqual(16);
    const { connections, channelsPerConnection } = app.get(RabbitMqPool).options;
    expect(sample(MQ_METRIC.channelsMax, rabbit)).toBe(connections * channelsPerConnection);
    expect(sample(MQ_METRIC.waiting, rabbit)).toBe(0);
    expect(sample(`${MQ_METRIC.acquireSeconds}_count`, rabbit)).toBeGreaterThanOrEqual(1);
    expect(sample(MQ_METRIC.acquireErrors, `${rabbit},reason="timeout"`)).toBe(0);
    expect(sample(MQ_METRIC.leaks, rabbit)).toBe(0);
    expect(sample(MQ_METRIC.reconnects, rabbit)).toBe(0);
    expect(sample(`${MQ_METRIC.publishSeconds}_count`, rabbit)).toBeGreaterThanOrEqual(1);
    expect(text).toMatch(
      new RegExp(`${MQ_METRIC.publishErrors}\\{${rabbit},reason="[a-z_]+"\\} 1`),
    );
    expect(sample(MQ_METRIC.consume, `${rabbit},outcome="ack"`)).toBe(2);
    const kafka = 'pool="default",broker="kafka"';
    expect(sample(MQ_METRIC.connections, kafka)).toBeGreaterThanOrEqual(1);
    expect(sample(`${MQ_METRIC.publishSeconds}_count`, kafka)).toBe(1);
    expect(text).not.toMatch(/guest|amqp:\/\/|127\.0\.0\.1|9092/);
  });

  it('never calls collectDefaultMetrics() itself', () => {
    expect(text).not.toContain('process_cpu_seconds_total');
    expect(text).not.toContain('nodejs_');
  });

  it.skipIf(!hasPromtool)('passes promtool check metrics', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mq-metrics-'));
    const file = join(dir, 'metrics.txt');
    await writeFile(file, text);
    try {
      const { stdout, stderr } = await run('sh', ['-c', `promtool check metrics < ${file}`]);
      expect(`${stdout}${stderr}`).not.toMatch(/error/i);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a second app in the same process re-uses the metrics (no duplicate registration)', async () => {
    await app.close();
    app = await startApp();
    expect(globalRegistry.getSingleMetric(MQ_METRIC.leaks)).toBeDefined();
  }, 60_000);

  it('a registry passed in the options receives the metrics', async () => {
    const registry = new Registry();
    const moduleRef = await Test.createTestingModule({
      imports: [
        MqPoolModule.forRoot({
          name: 'own-registry',
          rabbitmq: { url: amqpUrl() },
          metrics: { registry },
          logger: memoryLogger(),
        }),
      ],
    }).compile();
    const own = moduleRef.createNestApplication({ logger: false });
    await own.init();
    try {
      const ownText = await registry.metrics();
      expect(ownText).toContain('mq_pool_connections{pool="own-registry",broker="rabbitmq"} 1');
      expect(await globalRegistry.metrics()).not.toContain('pool="own-registry"');
    } finally {
      await own.close();
    }
    expect(await registry.metrics()).not.toContain('mq_pool_connections{pool="own-registry"');
  }, 60_000);
});

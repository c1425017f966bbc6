/**
 * The @golevelup/nestjs-rabbitmq side of bench/consume.bench.ts, in its own package (Nest 11, which
 * golevelup 9 needs; the project is on Nest 12). One child process per run:
 *   node --import tsx bench/golevelup/golevelup-side.ts golevelup '<job json>'
 * consume: a Nest application context with one `@RabbitSubscribe` handler on the prefilled queue,
 * the same prefetch (`prefetchCount`), golevelup's defaults otherwise (JSON payloads, ack on resolve).
 * request: `AmqpConnection.request()` against the bench's responder.
 */
import 'reflect-metadata';

import { AmqpConnection, RabbitMQModule, RabbitSubscribe } from '@golevelup/nestjs-rabbitmq';
import { Injectable, Module, type DynamicModule } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

import {
  type BenchJob,
  type BenchPayload,
  ConsumeMeter,
  measureRequests,
  REQUEST_PAYLOAD,
  runSide,
} from '../consume-jobs.js';

function rabbitModule(job: BenchJob): DynamicModule {
  return RabbitMQModule.forRoot({
    uri: job.url,
    prefetchCount: job.kind === 'consume' ? job.prefetch : undefined,
    connectionInitOptions: { wait: true, timeout: 10_000 },
    defaultRpcTimeout: job.timeoutMs,
  });
}

async function consume(job: BenchJob & { kind: 'consume' }): Promise<unknown> {
  const meter = new ConsumeMeter(job);
  let lastId = 0;

  @Injectable()
  class BenchHandler {
    @RabbitSubscribe({ queue: job.queue, queueOptions: { durable: true } })
    async handle(payload: BenchPayload): Promise<void> {
      lastId = payload.id;
      meter.handled();
    }
  }

  @Module({ imports: [rabbitModule(job)], providers: [BenchHandler] })
  class BenchModule {}

  const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error'] });
  try {
    const figures = await meter.finished;
    return { ...figures, lastId };
  } finally {
    await app.close();
  }
}

async function request(job: BenchJob & { kind: 'request' }): Promise<unknown> {
  @Module({ imports: [rabbitModule(job)] })
  class BenchModule {}

  const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error'] });
  try {
    const amqp = app.get(AmqpConnection);
    return await measureRequests(job, () =>
      amqp.request({
        exchange: '',
        routingKey: job.queue,
        payload: REQUEST_PAYLOAD,
        timeout: job.timeoutMs,
      }),
    );
  } finally {
    await app.close();
  }
}

runSide(async (subject, job) => {
  if (subject !== 'golevelup') throw new Error(`golevelup-side: unknown subject "${subject}"`);
  return job.kind === 'consume' ? consume(job) : request(job);
});

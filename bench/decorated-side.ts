/**
 * The decorated side of bench/consume.bench.ts (one child process per run):
 *   node --import tsx bench/decorated-side.ts decorated '<job json>'
 * consume: a Nest 12 application context with `MqPoolModule.forRoot({ rabbitmq: { url } })` and one
 * `@RabbitSubscribe({ queue, prefetch })` provider method, the module's defaults otherwise (JSON
 * payloads, ack on resolve, metrics on in prom-client's default registry) — what an app gets.
 * Its own file, so the raw and pool.subscribe() sides never load Nest.
 */
import 'reflect-metadata';

import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

import { MqPoolModule, RabbitSubscribe } from '../lib/index.js';
import { type BenchPayload, ConsumeMeter, type ConsumeJob, runSide } from './consume-jobs.js';

async function consume(job: ConsumeJob): Promise<unknown> {
  const meter = new ConsumeMeter(job);
  let lastId = 0;

  @Injectable()
  class BenchHandler {
    @RabbitSubscribe({ queue: job.queue, prefetch: job.prefetch })
    async handle(payload: BenchPayload): Promise<void> {
      lastId = payload.id;
      meter.handled();
    }
  }

  @Module({
    imports: [MqPoolModule.forRoot({ rabbitmq: { url: job.url } })],
    providers: [BenchHandler],
  })
  class BenchModule {}

  const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error'] });
  try {
    const figures = await meter.finished;
    return { ...figures, lastId };
  } finally {
    await app.close();
  }
}

runSide(async (subject, job) => {
  if (subject === 'decorated' && job.kind === 'consume') return consume(job);
  throw new Error(`decorated-side: no ${job.kind} job for "${subject}"`);
});

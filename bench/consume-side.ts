/**
 * The raw amqplib and nestjs-mq-pool sides of bench/consume.bench.ts (one child process per run):
 *   node --import tsx bench/consume-side.ts raw|ours '<job json>'
 * raw: one channel, the same prefetch, JSON.parse and an ack per message, like a handler would.
 * ours: `pool.subscribe()` (consume) and `pool.request()` (request), with their defaults.
 */
import amqp from 'amqplib';

import { RabbitMqPool } from '../lib/rabbitmq/index.js';
import {
  type BenchJob,
  type BenchPayload,
  ConsumeMeter,
  type ConsumeJob,
  measureRequests,
  REQUEST_PAYLOAD,
  runSide,
} from './consume-jobs.js';

async function rawConsume(job: ConsumeJob): Promise<unknown> {
  const conn = await amqp.connect(job.url);
  try {
    const ch = await conn.createChannel();
    await ch.prefetch(job.prefetch);
    const meter = new ConsumeMeter(job);
    let lastId = 0;
    await ch.consume(job.queue, (msg) => {
      if (!msg) return;
      lastId = (JSON.parse(msg.content.toString('utf8')) as BenchPayload).id;
      meter.handled();
      ch.ack(msg);
    });
    const figures = await meter.finished;
    return { ...figures, lastId };
  } finally {
    await conn.close();
  }
}

async function ours(job: BenchJob): Promise<unknown> {
  const pool = new RabbitMqPool({ url: job.url }, { name: 'bench' });
  await pool.start();
  try {
    if (job.kind === 'request') {
      return await measureRequests(job, () =>
        pool.request('', job.queue, REQUEST_PAYLOAD, { timeoutMs: job.timeoutMs }),
      );
    }
    const meter = new ConsumeMeter(job);
    let lastId = 0;
    const subscription = await pool.subscribe<BenchPayload>(
      { queue: job.queue, prefetch: job.prefetch },
      async (payload) => {
        lastId = payload.id;
        meter.handled();
      },
    );
    const figures = await meter.finished;
    await subscription.cancel();
    return { ...figures, lastId };
  } finally {
    await pool.close();
  }
}

runSide(async (subject, job) => {
  if (subject === 'ours') return ours(job);
  if (subject === 'raw' && job.kind === 'consume') return rawConsume(job);
  throw new Error(`consume-side: no ${job.kind} job for "${subject}"`);
});

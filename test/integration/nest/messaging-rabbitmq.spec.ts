import { Controller, Get, Injectable, type INestApplication, ValidationPipe } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { IsInt, IsString, Min } from 'class-validator';
import { afterEach, describe, expect, it } from 'vitest';
import {
  MqPoolModule,
  RabbitMqHealthIndicator,
  RabbitMqPool,
  RabbitRpc,
  RabbitSubscribe,
  type RabbitMessage,
} from '../../../lib/index.js';
import { amqpUrl, rawRabbit, unique, waitFor } from '../../e2e/nest/support/e2e-support.js';

/**
 * The declarative handlers end to end against the real RabbitMQ: the Nest layer discovers the
 * decorated methods, the pool declares, binds and consumes, and messages travel as JSON.
 */

class OrderDto {
  @IsString()
  sku!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
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
}

let app: INestApplication | undefined;
const cleanup: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  await app?.close();
  app = undefined;
  for (const step of cleanup.splice(0)) await step().catch(() => undefined);
});

/** Deletes `queues` and `exchanges` after the test (each on a channel of its own: a 404 closes it). */
function dropAfter(queues: string[], exchanges: string[] = []): void {
  cleanup.push(async () => {
    const raw = await rawRabbit();
    for (const q of queues) {
      const ch = await raw.model.createChannel();
      await ch.deleteQueue(q).catch(() => undefined);
    }
    for (const x of exchanges) {
      const ch = await raw.model.createChannel();
      await ch.deleteExchange(x).catch(() => undefined);
    }
    await raw.close();
  });
}

async function start(providers: unknown[], configure?: (a: INestApplication) => void) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TerminusModule.forRoot({ logger: false }),
      MqPoolModule.forRoot({
        rabbitmq: { url: amqpUrl() },
        shutdown: { drainTimeoutMs: 15_000 },
        metrics: { enabled: false },
      }),
    ],
    controllers: [HealthController],
    providers: providers as never[],
  }).compile();
  const started = moduleRef.createNestApplication({ logger: false });
  configure?.(started);
  app = started;
  await started.listen(0, '127.0.0.1');
  return { app: started, pool: started.get(RabbitMqPool), base: await started.getUrl() };
}

describe('@RabbitSubscribe against RabbitMQ', () => {
  it('receives a JSON message published to its exchange and routing key, then acks it; readiness is up once attached', async () => {
    const exchange = unique('it-nest-shop');
    const queue = unique('it-nest-orders');
    dropAfter([queue, `${queue}.dlq`], [exchange]);
    const raw = await rawRabbit();
    await (await raw.model.createChannel()).assertExchange(exchange, 'topic', { durable: false });
    await raw.close();

    const received: Array<[unknown, RabbitMessage]> = [];
    @Injectable()
    class Orders {
      @RabbitSubscribe({ queue, exchange, routingKey: 'order.*' })
      async handle(order: unknown, message: RabbitMessage): Promise<void> {
        received.push([order, message]);
      }
    }
    const { pool, base } = await start([Orders]);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);

    await pool.publish(
      exchange,
      'order.created',
      { sku: 'book', quantity: 2 },
      { messageId: 'o-1' },
    );
    await waitFor(() => received.length === 1, 10_000, 'the message handled');
    const [payload, message] = received[0]!;
    expect(payload).toEqual({ sku: 'book', quantity: 2 });
    expect(message).toMatchObject({ messageId: 'o-1', attempt: 1, redelivered: false });
    expect(message.fields.routingKey).toBe('order.created');

    const check = await rawRabbit();
    await waitFor(
      async () => (await (await check.model.createChannel()).checkQueue(queue)).messageCount === 0,
      5_000,
      'the queue empty',
    );
    await check.close();
  });

  it('a payload ValidationPipe rejects lands in `${queue}.dlq` at once, never retried, with the reason in its headers', async () => {
    const queue = unique('it-nest-validated');
    const dlq = `${queue}.dlq`;
    dropAfter([queue, dlq]);
    let calls = 0;
    @Injectable()
    class Orders {
      @RabbitSubscribe({ queue, retry: { attempts: 3, delayMs: 50 } })
      async handle(_order: OrderDto): Promise<void> {
        calls++;
      }
    }
    const { pool } = await start([Orders], (a) => a.useGlobalPipes(new ValidationPipe()));
    await pool.sendToQueue(queue, { sku: 'book', quantity: 0 }, { messageId: 'bad-1' });

    const check = await rawRabbit();
    const ch = await check.model.createChannel();
    await waitFor(
      async () => (await ch.checkQueue(dlq)).messageCount === 1,
      10_000,
      'dead-lettered',
    );
    // Longer than every retry delay together: a retry would have shown up by now.
    await new Promise((r) => setTimeout(r, 500));
    expect(calls).toBe(0);
    expect((await ch.checkQueue(dlq)).messageCount).toBe(1);
    expect((await ch.checkQueue(queue)).messageCount).toBe(0);
    const dead = await ch.get(dlq, { noAck: true });
    expect(dead).not.toBe(false);
    if (dead === false) return;
    expect(JSON.parse(dead.content.toString())).toEqual({ sku: 'book', quantity: 0 });
    expect(dead.properties.messageId).toBe('bad-1');
    expect(JSON.stringify(dead.properties.headers)).toContain('quantity must not be less than 1');
    await check.close();
  });

  it('an in-flight handler finishes and its message is acked before app.close() resolves', async () => {
    const queue = unique('it-nest-drain');
    dropAfter([queue, `${queue}.dlq`]);
    let release: () => void = () => undefined;
    let entered = false;
    let finished = false;
    @Injectable()
    class Slow {
      @RabbitSubscribe({ queue, prefetch: 1 })
      async handle(): Promise<void> {
        entered = true;
        await new Promise<void>((r) => (release = r));
        finished = true;
      }
    }
    const { app: running, pool } = await start([Slow]);
    await pool.sendToQueue(queue, { n: 1 });
    await waitFor(() => entered, 10_000, 'the handler entered');

    let closed = false;
    const closing = running.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(closed).toBe(false);
    release();
    await closing;
    app = undefined;
    expect(finished).toBe(true);

    const check = await rawRabbit();
    const ch = await check.model.createChannel();
    expect((await ch.checkQueue(queue)).messageCount).toBe(0);
    await check.close();
  });
});

describe('@RabbitRpc against RabbitMQ', () => {
  it('answers pool.request() with its return value', async () => {
    const queue = unique('it-nest-rpc');
    dropAfter([queue]);
    @Injectable()
    class Prices {
      @RabbitRpc({ queue })
      async price(request: { sku: string; quantity: number }): Promise<{ total: number }> {
        return { total: request.quantity * (request.sku === 'book' ? 12 : 1) };
      }
    }
    const { pool } = await start([Prices]);
    const reply = await pool.request<{ total: number }>(
      '',
      queue,
      { sku: 'book', quantity: 3 },
      { timeoutMs: 5_000 },
    );
    expect(reply).toEqual({ total: 36 });
  });
});

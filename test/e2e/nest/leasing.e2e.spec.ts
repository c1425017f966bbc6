import {
  Body,
  type CallHandler,
  Controller,
  type ExecutionContext,
  Get,
  HttpCode,
  type INestApplication,
  Injectable,
  type NestInterceptor,
  Post,
  UseInterceptors,
} from '@nestjs/common';
import { type Observable, timeout } from 'rxjs';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type ChannelHandle,
  ChannelInterceptor,
  CurrentChannel,
  MqPoolModule,
  RabbitMqPool,
  WithChannel,
} from '../../../lib/index.js';
import { amqpUrl, memoryLogger, rawRabbit, unique, waitFor } from './support/e2e-support.js';

/**
 * Leasing over HTTP against the real broker: one lease per request through ChannelInterceptor,
 * released on success, on error and on client disconnect, bounded under 1,000 concurrent requests.
 */
const queue = unique('e2e-nest-leasing');
const gate: { open(): void; entered: boolean } = { open: () => undefined, entered: false };
let afterAbort: Promise<unknown> | undefined;

class AuditService {
  constructor(readonly pool: RabbitMqPool) {}

  // Runs with the request's channel when called inside it (re-entrant through the pool's scope).
  @WithChannel()
  async note(text: string): Promise<void> {
    const ch = this.pool.currentChannel()!;
    ch.sendToQueue(queue, Buffer.from(text), { persistent: false });
    await ch.waitForConfirms();
  }
}

@Controller()
@UseInterceptors(ChannelInterceptor)
class LeasingController {
  private readonly audit: AuditService;
  constructor(private readonly pool: RabbitMqPool) {
    this.audit = new AuditService(pool);
  }

  @Post('publish')
  @HttpCode(200)
  async publish(
    @CurrentChannel() handle: ChannelHandle,
    @Body() body: { n: number },
  ): Promise<{ ok: true }> {
    const ch = await handle.get();
    ch.sendToQueue(queue, Buffer.from(JSON.stringify(body)), { persistent: false });
    await ch.waitForConfirms();
    return { ok: true };
  }

  @Post('with-audit')
  @HttpCode(200)
  async withAudit(@CurrentChannel() handle: ChannelHandle): Promise<{ same: boolean }> {
    const ch = await handle.get();
    await this.audit.note('audit');
    return { same: this.pool.currentChannel() === ch };
  }

  @Get('throws')
  async throws(@CurrentChannel() handle: ChannelHandle): Promise<never> {
    await handle.get();
    throw new Error('failed after leasing');
  }

  @Get('hang')
  async hang(@CurrentChannel() handle: ChannelHandle): Promise<string> {
    await handle.get();
    gate.entered = true;
    await new Promise<void>((resolve) => (gate.open = resolve));
    afterAbort = handle.get().then(
      () => 'still usable?!',
      (e: unknown) => e,
    );
    return 'done';
  }

  @Get('stats')
  stats(): unknown {
    return this.pool.stats();
  }
}

/** An outer interceptor that gives up on the response after 100 ms (unsubscribes the handler's observable). */
@Injectable()
class CancelAfter100ms implements NestInterceptor {
  intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
    return next.handle().pipe(timeout(100));
  }
}

const cancelled: { channelClosed: boolean; late: unknown } = {
  channelClosed: false,
  late: undefined,
};

@Controller('cancelled')
class CancelledController {
  @Get()
  @UseInterceptors(CancelAfter100ms, ChannelInterceptor)
  async slow(@CurrentChannel() handle: ChannelHandle): Promise<string> {
    const ch = await handle.get();
    ch.once('close', () => (cancelled.channelClosed = true));
    await new Promise((resolve) => setTimeout(resolve, 400));
    cancelled.late = await handle.get().then(
      () => 'still usable?!',
      (e: unknown) => e,
    );
    return 'too late';
  }
}

let app: INestApplication;
let pool: RabbitMqPool;
const logger = memoryLogger();

beforeAll(async () => {
  const raw = await rawRabbit();
  const ch = await raw.model.createChannel();
  await ch.assertQueue(queue, { durable: false });
  await raw.close();
  const moduleRef = await Test.createTestingModule({
    imports: [
      MqPoolModule.forRoot({
        rabbitmq: {
          url: amqpUrl(),
          connections: 1,
          channelsPerConnection: 8,
          acquireTimeoutMs: 10_000,
        },
        metrics: { enabled: false },
        logger,
      }),
    ],
    controllers: [LeasingController, CancelledController],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  pool = app.get(RabbitMqPool);
});

afterAll(async () => {
  await app?.close();
  const raw = await rawRabbit();
  const ch = await raw.model.createChannel();
  await ch.deleteQueue(queue).catch(() => undefined);
  await raw.close();
  expect(logger.lines.join('\n')).not.toContain('guest:guest');
});

describe('ChannelInterceptor against RabbitMQ', () => {
  it('a route that throws after leasing leaves zero leased channels', async () => {
    await request(app.getHttpServer()).get('/throws').expect(500);
    expect(pool.stats().channels.leased).toBe(0);
  });

  it('@WithChannel() inside the request reuses the request lease', async () => {
    const res = await request(app.getHttpServer()).post('/with-audit').expect(200);
    expect(res.body).toEqual({ same: true });
    expect(pool.stats().channels.leased).toBe(0);
  });

  it('a client that disconnects mid-request frees its lease before the handler finishes', async () => {
    const controller = new AbortController();
    const pending = fetch(`${await app.getUrl()}/hang`, { signal: controller.signal }).catch(
      () => undefined,
    );
    await waitFor(() => gate.entered, 5_000, 'handler entered');
    expect(pool.stats().channels.leased).toBe(1);
    controller.abort();
    await pending;
    await waitFor(() => pool.stats().channels.leased === 0, 5_000, 'lease freed after abort');
    gate.open();
    await waitFor(() => afterAbort !== undefined, 5_000, 'handler resumed');
    const late = await afterAbort;
    expect(late).toBeInstanceOf(Error);
    expect((late as Error).name).toBe('ChannelScopeError');
    // The aborted channel was destroyed, not pooled: the pool still serves new requests.
    await request(app.getHttpServer()).post('/publish').send({ n: -1 }).expect(200);
    expect(pool.stats().channels.leased).toBe(0);
  });

  it('a response cancelled by an outer timeout() never returns the still-running handler’s channel to the pool', async () => {
    await request(app.getHttpServer()).get('/cancelled').expect(500);
    // The handler still runs and may still use its channel: it is closed and destroyed, not pooled
    // (pooled, another request could lease the same channel while this handler writes on it).
    await waitFor(() => cancelled.channelClosed, 5_000, 'cancelled request channel closed');
    await waitFor(() => pool.stats().channels.leased === 0, 5_000, 'slot freed');
    await waitFor(() => cancelled.late !== undefined, 5_000, 'handler resumed');
    expect((cancelled.late as Error).name).toBe('ChannelScopeError');
    await request(app.getHttpServer()).post('/publish').send({ n: -2 }).expect(200);
    expect(pool.stats().channels.leased).toBe(0);
  });

  it('1,000 concurrent requests over 8 channels: no leak, only 200s or documented 503s, every 200 confirmed', async () => {
    const raw = await rawRabbit();
    const ch = await raw.model.createChannel();
    await ch.purgeQueue(queue);
    const base = await app.getUrl();
    let maxLeased = 0;
    const sampler = setInterval(() => {
      maxLeased = Math.max(maxLeased, pool.stats().channels.total);
    }, 5);
    const statuses = await Promise.all(
      Array.from({ length: 1_000 }, (_, n) =>
        fetch(`${base}/publish`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ n }),
        }).then(async (r) => {
          if (r.status === 503) expect(r.headers.get('retry-after')).toMatch(/^\d+$/);
          await r.arrayBuffer();
          return r.status;
        }),
      ),
    );
    clearInterval(sampler);
    const ok = statuses.filter((s) => s === 200).length;
    const backpressure = statuses.filter((s) => s === 503).length;
    expect(ok + backpressure).toBe(1_000);
    expect(ok).toBeGreaterThan(0);
    const stats = pool.stats();
    expect(stats.channels.leased).toBe(0);
    expect(stats.waiting).toBe(0);
    expect(maxLeased).toBeLessThanOrEqual(8);
    const { messageCount } = await ch.checkQueue(queue);
    expect(messageCount).toBe(ok);
    await raw.close();
  }, 60_000);
});

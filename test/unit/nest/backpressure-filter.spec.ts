import { Controller, Get, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import {
  AcquireTimeoutError,
  MqPoolModule,
  PoolClosedError,
  PoolExhaustedError,
  type PoolStats,
} from '../../../lib/index.js';

const stats: PoolStats = {
  max: 8,
  size: 8,
  idle: 0,
  leased: 8,
  creating: 0,
  validating: 0,
  waiting: 1000,
  leaks: 0,
  draining: false,
  closed: false,
};

@Controller()
class ThrowingController {
  @Get('exhausted')
  exhausted(): never {
    throw new PoolExhaustedError({
      pool: 'rabbitmq:default',
      reason: 'maxWaiting',
      stats,
      maxWaiting: 1000,
    });
  }

  @Get('failing')
  failing(): never {
    throw new PoolExhaustedError({
      pool: 'rabbitmq:default',
      reason: 'createFailing',
      stats,
      failures: 3,
      retryAfterMs: 2_500,
    });
  }

  @Get('timeout')
  async timeout(): Promise<never> {
    throw new AcquireTimeoutError({ pool: 'rabbitmq:default', timeoutMs: 5000, stats });
  }

  @Get('closed')
  closed(): never {
    throw new PoolClosedError('rabbitmq:default', 'draining');
  }

  @Get('other')
  other(): never {
    throw new Error('not ours');
  }
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

// The pool points at a closed port and does not fail startup: these tests never need a broker.
const rabbitmq = { url: 'amqp://guest:guest@127.0.0.1:1', connectTimeoutMs: 100 };

async function start(httpBackpressure?: boolean): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      MqPoolModule.forRoot({
        rabbitmq,
        startup: { failFast: false },
        metrics: { enabled: false },
        ...(httpBackpressure === undefined ? {} : { httpBackpressure }),
        logger: { debug() {}, info() {}, warn() {}, error() {} },
      }),
    ],
    controllers: [ThrowingController],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return app;
}

describe('back-pressure errors over HTTP (registered by MqPoolModule by default)', () => {
  it('PoolExhaustedError -> 503 with Retry-After, body carries the code, not internal stats', async () => {
    const server = (await start()).getHttpServer();
    const res = await request(server).get('/exhausted').expect(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.body).toEqual({
      statusCode: 503,
      error: 'Service Unavailable',
      code: 'MQ_POOL_EXHAUSTED',
      message: expect.stringMatching(/saturated/),
    });
    expect(JSON.stringify(res.body)).not.toMatch(/waiting|leased/);
  });

  it("uses the pool's own retry hint when it has one (rounded up to whole seconds)", async () => {
    const res = await request((await start()).getHttpServer())
      .get('/failing')
      .expect(503);
    expect(res.headers['retry-after']).toBe('3');
  });

  it('AcquireTimeoutError -> 503; PoolClosedError -> 503 with Connection: close', async () => {
    const server = (await start()).getHttpServer();
    const t = await request(server).get('/timeout').expect(503);
    expect(t.body.code).toBe('MQ_POOL_ACQUIRE_TIMEOUT');
    const c = await request(server).get('/closed').expect(503);
    expect(c.body.code).toBe('MQ_POOL_CLOSED');
    expect(c.headers['retry-after']).toBe('1');
    expect(c.headers.connection).toBe('close');
  });

  it('leaves other errors to the app', async () => {
    await request((await start()).getHttpServer())
      .get('/other')
      .expect(500);
  });

  it('httpBackpressure: false opts out', async () => {
    await request((await start(false)).getHttpServer())
      .get('/exhausted')
      .expect(500);
  });
});

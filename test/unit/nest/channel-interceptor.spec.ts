import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type ArgumentsHost,
  Catch,
  Controller,
  type ExceptionFilter,
  Get,
  type INestApplication,
  UseInterceptors,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  type ChannelHandle,
  ChannelInterceptor,
  ChannelScopeError,
  CurrentChannel,
  WithChannel,
} from '../../../lib/index.js';
import { type FakeChannel, FakeRabbitMqPool, registerFake } from './support/fake-rabbitmq-pool.js';

const pool = new FakeRabbitMqPool();
let release: () => void = () => undefined;
const parked: { handle?: ChannelHandle; done?: Promise<unknown> } = {};

class Nested {
  @WithChannel()
  async current(): Promise<unknown> {
    return pool.currentChannel();
  }
}

@Controller()
@UseInterceptors(ChannelInterceptor)
class TestController {
  @Get('unused')
  unused(): string {
    return 'no channel';
  }

  @Get('twice')
  async twice(
    @CurrentChannel() handle: ChannelHandle,
  ): Promise<{ same: boolean; nested: boolean }> {
    const a = await handle.get();
    const b = await handle.get();
    const nested = await new Nested().current();
    return { same: a === b, nested: nested === a };
  }

  @Get('throws')
  async throws(@CurrentChannel() handle: ChannelHandle): Promise<never> {
    await handle.get();
    throw new Error('after leasing');
  }

  @Get('slow')
  async slow(@CurrentChannel() handle: ChannelHandle): Promise<string> {
    parked.handle = handle;
    await handle.get();
    await new Promise<void>((resolve) => {
      release = resolve;
    });
    parked.done = handle.get().catch((e: unknown) => e);
    return 'late';
  }
}

@Controller()
class NoInterceptorController {
  @Get('bare')
  bare(@CurrentChannel() handle: ChannelHandle): string {
    return typeof handle;
  }
}

/** Shows the error message in the response, so tests can assert it. */
@Catch()
class MessageFilter implements ExceptionFilter {
  catch(error: Error, host: ArgumentsHost): void {
    host
      .switchToHttp()
      .getResponse<{ status(n: number): { json(b: unknown): void } }>()
      .status(500)
      .json({ message: error.message, name: error.name });
  }
}

let app: INestApplication;
let unregister: () => void;

beforeAll(async () => {
  unregister = registerFake(pool);
  const moduleRef = await Test.createTestingModule({
    controllers: [TestController, NoInterceptorController],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  app.useGlobalFilters(new MessageFilter());
  await app.listen(0, '127.0.0.1');
});

afterAll(async () => {
  await app.close();
  unregister();
});

beforeEach(() => {
  pool.acquired = 0;
  pool.destroyed = 0;
  pool.cancelled = 0;
});

describe('ChannelInterceptor + @CurrentChannel()', () => {
  it('takes no lease for a route that does not use the channel', async () => {
    await request(app.getHttpServer()).get('/unused').expect(200, 'no channel');
    expect(pool.acquired).toBe(0);
  });

  it('leases lazily once per request, shares it with @WithChannel() inside, releases it after the response', async () => {
    const res = await request(app.getHttpServer()).get('/twice').expect(200);
    expect(res.body).toEqual({ same: true, nested: true });
    expect(pool.acquired).toBe(1);
    expect(pool.leased).toBe(0);
  });

  it('releases the lease when the handler throws after leasing', async () => {
    await request(app.getHttpServer()).get('/throws').expect(500);
    expect(pool.acquired).toBe(1);
    expect(pool.leased).toBe(0);
  });

  it('frees the lease when the client disconnects mid-request, by destroying the channel; the handle then refuses', async () => {
    const { port } = app.getHttpServer().address() as AddressInfo;
    const req = http.get({ host: '127.0.0.1', port, path: '/slow' });
    req.on('error', () => undefined);
    await waitFor(() => pool.leased === 1);
    const channel = (await parked.handle!.get()) as unknown as FakeChannel;
    req.destroy();
    await waitFor(() => pool.leased === 0);
    expect(channel.closed).toBe(true);
    expect(pool.destroyed).toBe(1);
    release();
    await waitFor(() => parked.done !== undefined);
    const late = await parked.done;
    expect(late).toBeInstanceOf(ChannelScopeError);
    expect((late as Error).message).toMatch(/client disconnected/);
  });

  it('cancels a pending acquire when the client disconnects while waiting for a channel', async () => {
    let open: () => void = () => undefined;
    pool.gate = new Promise<void>((r) => (open = r));
    const { port } = app.getHttpServer().address() as AddressInfo;
    const req = http.get({ host: '127.0.0.1', port, path: '/twice' });
    req.on('error', () => undefined);
    // The handler's get() is waiting in the pool: only then is there an acquire to cancel.
    await waitFor(() => pool.waiting === 1);
    expect(pool.cancelled).toBe(0);
    req.destroy();
    // The disconnect cancels that wait through its AbortSignal, before any channel is free.
    await waitFor(() => pool.waiting === 0);
    expect(pool.cancelled).toBe(1);
    pool.gate = undefined;
    open();
    await new Promise((r) => setTimeout(r, 20));
    expect(pool.acquired).toBe(0);
    expect(pool.leased).toBe(0);
  });

  it('@CurrentChannel() without the interceptor fails with an actionable error', async () => {
    const res = await request(app.getHttpServer()).get('/bare').expect(500);
    expect(res.body.name).toBe('ChannelScopeError');
    expect(res.body.message).toMatch(
      /without ChannelInterceptor\. Fix: add @UseInterceptors\(ChannelInterceptor\)/,
    );
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 5));
  }
}

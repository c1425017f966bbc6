import 'reflect-metadata';
import { Controller, Get, UseGuards, type CanActivate } from '@nestjs/common';
import { GUARDS_METADATA, METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { afterEach, describe, expect, it } from 'vitest';
import { PoolNotRegisteredError, WithChannel } from '../../../lib/index.js';
import { FakeRabbitMqPool, registerFake } from './support/fake-rabbitmq-pool.js';

class AllowAll implements CanActivate {
  canActivate(): boolean {
    return true;
  }
}

let unregister: Array<() => void> = [];
afterEach(() => {
  unregister.forEach((u) => u());
  unregister = [];
});

describe('@WithChannel()', () => {
  it('keeps the metadata of decorators applied before it (route, guards) and the method name', () => {
    @Controller('x')
    class C {
      // Decorators apply bottom-up: @Get and @UseGuards store their metadata on the original function first.
      @WithChannel()
      @Get('y')
      @UseGuards(AllowAll)
      async handler(): Promise<string> {
        return 'ok';
      }
    }
    const fn = C.prototype.handler;
    expect(Reflect.getMetadata(PATH_METADATA, fn)).toBe('y');
    expect(Reflect.getMetadata(METHOD_METADATA, fn)).toBeDefined();
    expect(Reflect.getMetadata(GUARDS_METADATA, fn)).toEqual([AllowAll]);
    expect(fn.name).toBe('handler');
  });

  it('leases one channel for the whole async run and releases it when the method settles', async () => {
    const pool = new FakeRabbitMqPool();
    unregister.push(registerFake(pool));
    class Service {
      seen: unknown[] = [];
      @WithChannel()
      async work(fail: boolean): Promise<void> {
        this.seen.push(pool.currentChannel());
        await new Promise((r) => setTimeout(r, 5));
        this.seen.push(pool.currentChannel());
        if (fail) throw new Error('boom');
      }
    }
    const s = new Service();
    await s.work(false);
    expect(s.seen[0]).toBeDefined();
    expect(s.seen[0]).toBe(s.seen[1]);
    expect(pool.leased).toBe(0);
    await expect(s.work(true)).rejects.toThrow('boom');
    expect(pool.leased).toBe(0);
    expect(pool.acquired).toBe(2);
  });

  it('is re-entrant: nested decorated calls reuse the outer lease', async () => {
    const pool = new FakeRabbitMqPool();
    unregister.push(registerFake(pool));
    class Service {
      @WithChannel()
      async outer(): Promise<[unknown, unknown]> {
        return [pool.currentChannel(), await this.inner()];
      }
      @WithChannel()
      async inner(): Promise<unknown> {
        return pool.currentChannel();
      }
    }
    const [outer, inner] = await new Service().outer();
    expect(inner).toBe(outer);
    expect(pool.acquired).toBe(1);
  });

  it('finds named pools by name, and says what to fix when the pool is not registered', async () => {
    const audit = new FakeRabbitMqPool('audit');
    class Service {
      @WithChannel('audit')
      async audited(): Promise<unknown> {
        return audit.currentChannel();
      }
    }
    await expect(new Service().audited()).rejects.toThrow(PoolNotRegisteredError);
    await expect(new Service().audited()).rejects.toThrow(
      /No RabbitMQ pool "audit".*Fix: register it with MqPoolModule\.forRoot\(\{ name: 'audit', rabbitmq/,
    );
    unregister.push(registerFake(audit));
    await expect(new Service().audited()).resolves.toBeDefined();
  });
});

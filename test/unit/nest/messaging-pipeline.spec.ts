import {
  type ArgumentsHost,
  BadRequestException,
  Catch,
  type CallHandler,
  type CanActivate,
  type ExceptionFilter,
  type ExecutionContext,
  Injectable,
  type INestApplication,
  type NestInterceptor,
  SetMetadata,
  UseFilters,
  UseGuards,
  UseInterceptors,
  UsePipes,
  ValidationPipe,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Type } from 'class-transformer';
import { IsInt, IsString, Min } from 'class-validator';
import { map, type Observable } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import {
  KafkaSubscribe,
  MessageContext,
  MessagePayload,
  MessageRejectedError,
  NonRetriableError,
  PoolClosedError,
  RabbitRpc,
  RabbitSubscribe,
  type KafkaMessageContext,
  type RabbitMessage,
} from '../../../lib/index.js';
import { MqBackpressureFilter } from '../../../lib/nest/backpressure.filter.js';
import {
  bootHandlers,
  FakeKafkaMessaging,
  FakeRabbitMessaging,
  rabbitMessage,
} from './support/messaging-harness.js';

class OrderDto {
  @IsString()
  sku!: string;

  @Type(() => Number)
  @IsInt()
  @Min(1)
  quantity!: number;
}

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

/** Boots `host` on a fake RabbitMQ pool and returns the handler built for `queue`. */
async function handlerOf(
  host: new (...a: never[]) => unknown,
  queue: string,
  configure?: (app: INestApplication) => void,
) {
  const rabbit = new FakeRabbitMessaging();
  const booted = await bootHandlers({ providers: [host] }, [{ rabbitmq: rabbit }], configure);
  app = booted.app;
  return { handler: rabbit.handler(queue), instance: booted.app.get(host) };
}

describe('the Nest pipeline of a declarative handler', () => {
  it('calls the method with (payload, message); guards and interceptors see getType() "rmq" and getArgs() [payload, message]', async () => {
    const seen: unknown[] = [];
    @Injectable()
    class Spy implements CanActivate {
      canActivate(context: ExecutionContext): boolean {
        seen.push(context.getType(), context.getArgs(), context.switchToRpc().getData());
        return true;
      }
    }
    @Injectable()
    class Orders {
      calls: unknown[][] = [];
      @RabbitSubscribe({ queue: 'orders' })
      @UseGuards(Spy)
      async handle(payload: unknown, message: RabbitMessage): Promise<void> {
        this.calls.push([payload, message]);
      }
    }
    const { handler, instance } = await handlerOf(Orders, 'orders');
    const message = rabbitMessage();
    await handler({ sku: 'a' }, message);
    expect((instance as Orders).calls).toEqual([[{ sku: 'a' }, message]]);
    expect(seen).toEqual(['rmq', [{ sku: 'a' }, message], { sku: 'a' }]);
  });

  it('ValidationPipe validates the payload against the DTO of parameter 0 — no parameter decorator needed', async () => {
    @Injectable()
    class Orders {
      received: unknown[] = [];
      @RabbitSubscribe({ queue: 'orders' })
      @UsePipes(new ValidationPipe({ transform: true }))
      async handle(order: OrderDto): Promise<void> {
        this.received.push(order);
      }
    }
    const { handler, instance } = await handlerOf(Orders, 'orders');
    await handler({ sku: 'book', quantity: '2' }, rabbitMessage());
    const [order] = (instance as Orders).received;
    expect(order).toBeInstanceOf(OrderDto);
    expect(order).toEqual({ sku: 'book', quantity: 2 });
  });

  it('a payload ValidationPipe rejects becomes a MessageRejectedError (non-retriable) carrying the reasons; the method never runs', async () => {
    @Injectable()
    class Orders {
      calls = 0;
      @RabbitSubscribe({ queue: 'orders' })
      async handle(_order: OrderDto): Promise<void> {
        this.calls++;
      }
    }
    const { handler, instance } = await handlerOf(Orders, 'orders', (a) =>
      a.useGlobalPipes(new ValidationPipe()),
    );
    const err = await handler({ sku: 7, quantity: 0 }, rabbitMessage()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MessageRejectedError);
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err).toMatchObject({
      code: 'MQ_MESSAGE_REJECTED',
      handler: 'Orders.handle',
      reason: 'sku must be a string; quantity must not be less than 1',
    });
    expect((err as Error).message).toBe(
      'Orders.handle rejected the message before it ran: sku must be a string; quantity must not be less than 1',
    );
    expect((err as Error).cause).toBeInstanceOf(BadRequestException);
    expect((instance as Orders).calls).toBe(0);
  });

  it('a guard returning false rejects the message (non-retriable); Reflector reads the method metadata', async () => {
    @Injectable()
    class TenantGuard implements CanActivate {
      constructor(private readonly reflector: Reflector) {}
      canActivate(context: ExecutionContext): boolean {
        const tenant = this.reflector.get<string>('tenant', context.getHandler());
        const message = context.switchToRpc().getContext<RabbitMessage>();
        return message.headers['x-tenant'] === tenant;
      }
    }
    @Injectable()
    class Orders {
      calls = 0;
      @RabbitSubscribe({ queue: 'orders' })
      @SetMetadata('tenant', 'acme')
      @UseGuards(TenantGuard)
      async handle(): Promise<void> {
        this.calls++;
      }
    }
    const { handler, instance } = await handlerOf(Orders, 'orders');
    await handler({}, rabbitMessage({ headers: { 'x-tenant': 'acme' } }));
    const err = await handler({}, rabbitMessage({ headers: { 'x-tenant': 'evil' } })).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MessageRejectedError);
    expect((err as MessageRejectedError).reason).toBe('Forbidden resource');
    expect((instance as Orders).calls).toBe(1);
  });

  it('an error of the method itself is passed on unchanged (to the retry policy)', async () => {
    const boom = new Error('database down');
    @Injectable()
    class Orders {
      @RabbitSubscribe({ queue: 'orders' })
      async handle(): Promise<void> {
        throw boom;
      }
    }
    const { handler } = await handlerOf(Orders, 'orders');
    await expect(handler({}, rabbitMessage())).rejects.toBe(boom);
  });

  it('a NonRetriableError thrown by the method reaches the pool as is (dead-lettered at once)', async () => {
    @Injectable()
    class Orders {
      @RabbitSubscribe({ queue: 'orders' })
      async handle(): Promise<void> {
        throw new NonRetriableError('unknown customer');
      }
    }
    const { handler } = await handlerOf(Orders, 'orders');
    const err = await handler({}, rabbitMessage()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err).not.toBeInstanceOf(MessageRejectedError);
  });

  it('interceptors wrap the method: before, after, and they may map the RPC reply', async () => {
    const order: string[] = [];
    @Injectable()
    class Wrap implements NestInterceptor {
      intercept(_context: ExecutionContext, next: CallHandler): Observable<unknown> {
        order.push('before');
        return next.handle().pipe(
          map((reply: unknown) => {
            order.push('after');
            return { wrapped: reply };
          }),
        );
      }
    }
    @Injectable()
    class Prices {
      @RabbitRpc({ queue: 'price' })
      @UseInterceptors(Wrap)
      async price(request: { sku: string }): Promise<number> {
        order.push('method');
        return request.sku.length;
      }
    }
    const { handler } = await handlerOf(Prices, 'price');
    await expect(handler({ sku: 'book' }, rabbitMessage())).resolves.toEqual({ wrapped: 4 });
    expect(order).toEqual(['before', 'method', 'after']);
  });

  it('the return value of a @RabbitRpc method is the reply', async () => {
    @Injectable()
    class Prices {
      @RabbitRpc({ queue: 'price' })
      async price(request: { quantity: number }): Promise<{ total: number }> {
        return { total: request.quantity * 3 };
      }
    }
    const { handler } = await handlerOf(Prices, 'price');
    await expect(handler({ quantity: 2 }, rabbitMessage())).resolves.toEqual({ total: 6 });
  });

  it('an exception filter may map the error: what it throws goes on to the retry policy; what it returns handles it', async () => {
    class Mapped extends Error {}
    @Catch()
    class MapFilter implements ExceptionFilter {
      catch(exception: Error): never {
        throw new Mapped(`mapped: ${exception.message}`);
      }
    }
    @Catch()
    class SwallowFilter implements ExceptionFilter {
      catch(): string {
        return 'fallback';
      }
    }
    @Injectable()
    class Orders {
      @RabbitSubscribe({ queue: 'mapped' })
      @UseFilters(MapFilter)
      async one(): Promise<void> {
        throw new Error('boom');
      }

      @RabbitRpc({ queue: 'swallowed' })
      @UseFilters(SwallowFilter)
      async two(): Promise<string> {
        throw new Error('boom');
      }
    }
    const rabbit = new FakeRabbitMessaging();
    const booted = await bootHandlers({ providers: [Orders] }, [{ rabbitmq: rabbit }]);
    app = booted.app;
    const err = await rabbit
      .handler('mapped')({}, rabbitMessage())
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Mapped);
    expect(err).not.toBeInstanceOf(NonRetriableError);
    await expect(rabbit.handler('swallowed')({}, rabbitMessage())).resolves.toBe('fallback');
  });

  it('a rejected payload stays non-retriable whatever a filter maps it to; the mapped error is its cause', async () => {
    @Catch(BadRequestException)
    class ToPlain implements ExceptionFilter {
      catch(exception: BadRequestException): never {
        throw new Error(`invalid order: ${exception.message}`);
      }
    }
    @Injectable()
    class Orders {
      @RabbitSubscribe({ queue: 'orders' })
      @UsePipes(new ValidationPipe())
      @UseFilters(ToPlain)
      async handle(_order: OrderDto): Promise<void> {}
    }
    const { handler } = await handlerOf(Orders, 'orders');
    const err = await handler({ sku: 'x', quantity: -1 }, rabbitMessage()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MessageRejectedError);
    expect((err as MessageRejectedError).reason).toBe('invalid order: Bad Request Exception');
  });

  it('a filter that returns the error instead of throwing it (GraphQL style, like the 503 filter outside HTTP) leaves it unhandled', async () => {
    @Injectable()
    class Orders {
      @RabbitSubscribe({ queue: 'orders' })
      @UseFilters(MqBackpressureFilter)
      async handle(): Promise<void> {
        throw new PoolClosedError('rabbitmq:default', 'draining');
      }
    }
    const { handler } = await handlerOf(Orders, 'orders');
    await expect(handler({}, rabbitMessage())).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('@MessagePayload(property, ...pipes) and @MessageContext(property) pick parts and may reorder the parameters', async () => {
    @Injectable()
    class Orders {
      calls: unknown[][] = [];
      @RabbitSubscribe({ queue: 'orders' })
      async handle(
        @MessageContext('headers') headers: Record<string, unknown>,
        @MessagePayload('id') id: string,
        @MessageContext() message: RabbitMessage,
      ): Promise<void> {
        this.calls.push([headers, id, message.messageId]);
      }
    }
    const { handler, instance } = await handlerOf(Orders, 'orders');
    await handler({ id: 'o-1' }, rabbitMessage({ headers: { a: 1 }, messageId: 'm-9' }));
    expect((instance as Orders).calls).toEqual([[{ a: 1 }, 'o-1', 'm-9']]);
  });

  it('a parameter pipe of @MessagePayload rejects like any pipe', async () => {
    @Injectable()
    class Orders {
      @RabbitSubscribe({ queue: 'orders' })
      async handle(
        @MessagePayload(undefined, new ValidationPipe()) _order: OrderDto,
      ): Promise<void> {}
    }
    const { handler } = await handlerOf(Orders, 'orders');
    await expect(handler({}, rabbitMessage())).rejects.toBeInstanceOf(MessageRejectedError);
  });

  it('a @KafkaSubscribe handler runs in context type "kafka" and resolves to nothing (the offset moves on)', async () => {
    const types: string[] = [];
    @Injectable()
    class Types implements CanActivate {
      canActivate(context: ExecutionContext): boolean {
        types.push(context.getType());
        return true;
      }
    }
    @Injectable()
    class Events {
      got: unknown[] = [];
      @KafkaSubscribe({ topics: 'events', groupId: 'g' })
      @UseGuards(Types)
      async on(event: unknown, context: KafkaMessageContext): Promise<string> {
        this.got.push([event, context.offset]);
        return 'ignored';
      }
    }
    const kafka = new FakeKafkaMessaging();
    const booted = await bootHandlers({ providers: [Events] }, [{ kafka }]);
    app = booted.app;
    const context = { topic: 'events', partition: 0, offset: '42' } as KafkaMessageContext;
    await expect(kafka.subscriptions[0]!.handler({ e: 1 }, context)).resolves.toBeUndefined();
    expect(booted.app.get(Events).got).toEqual([[{ e: 1 }, '42']]);
    expect(types).toEqual(['kafka']);
  });

  it('concurrent messages are told apart: one rejected, one failing, one fine, at the same time', async () => {
    @Injectable()
    class Orders {
      @RabbitSubscribe({ queue: 'orders' })
      @UsePipes(new ValidationPipe())
      async handle(order: OrderDto): Promise<void> {
        await new Promise((r) => setTimeout(r, 5));
        if (order.sku === 'fail') throw new Error('handler failed');
      }
    }
    const { handler } = await handlerOf(Orders, 'orders');
    const results = await Promise.allSettled([
      handler({ sku: 'fail', quantity: 1 }, rabbitMessage()),
      handler({ sku: 1, quantity: 1 }, rabbitMessage()),
      handler({ sku: 'ok', quantity: 1 }, rabbitMessage()),
    ]);
    expect(results[0]).toMatchObject({ status: 'rejected', reason: { message: 'handler failed' } });
    expect((results[0] as PromiseRejectedResult).reason).not.toBeInstanceOf(NonRetriableError);
    expect((results[1] as PromiseRejectedResult).reason).toBeInstanceOf(MessageRejectedError);
    expect(results[2]).toMatchObject({ status: 'fulfilled' });
  });

  it('filters receive an ArgumentsHost of type "rmq" with [payload, message]', async () => {
    const hosts: unknown[] = [];
    @Catch()
    class Spy implements ExceptionFilter {
      catch(exception: Error, host: ArgumentsHost): never {
        hosts.push(host.getType(), host.getArgs().length);
        throw exception;
      }
    }
    @Injectable()
    class Orders {
      @RabbitSubscribe({ queue: 'orders' })
      @UseFilters(Spy)
      async handle(): Promise<void> {
        throw new Error('x');
      }
    }
    const { handler } = await handlerOf(Orders, 'orders');
    await handler({}, rabbitMessage()).catch(() => undefined);
    expect(hosts).toEqual(['rmq', 2]);
  });
});

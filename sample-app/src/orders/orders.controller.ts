import {
  Body,
  Controller,
  GatewayTimeoutException,
  Get,
  HttpCode,
  Post,
  UseInterceptors,
  ValidationPipe,
} from '@nestjs/common';
import {
  type ChannelHandle,
  ChannelInterceptor,
  CurrentChannel,
  RabbitMqPool,
  RpcTimeoutError,
} from 'nestjs-mq-pool';
import { AppCounters } from '../app-counters.js';
import { ORDER_CREATED_KEY, ORDERS_EXCHANGE, QUOTES_QUEUE } from '../sample-config.js';
import { type Quote, QuoteRequestDto } from './order.dto.js';
import type { NewOrder } from './order.js';
import { OrdersService, toOrder } from './orders.service.js';
import { OrdersBacklog } from './orders-backlog.js';

@Controller('orders')
export class OrdersController {
  constructor(
    private readonly orders: OrdersService,
    private readonly backlogs: OrdersBacklog,
    private readonly counters: AppCounters,
    private readonly rabbit: RabbitMqPool,
  ) {}

  /** The usual way: the injected pool's confirmed `publish()`. */
  @Post()
  @HttpCode(201)
  async create(@Body() body: NewOrder): Promise<{ id: string }> {
    const order = await this.orders.place(body);
    return { id: order.id };
  }

  /**
   * The request-scoped way: `ChannelInterceptor` leases one channel for this request on first use
   * and releases it when the response completes, fails, or the client goes away.
   */
  @Post('direct')
  @HttpCode(201)
  @UseInterceptors(ChannelInterceptor)
  async createDirect(
    @Body() body: NewOrder,
    @CurrentChannel() handle: ChannelHandle,
  ): Promise<{ id: string }> {
    const order = toOrder(body);
    const ch = await handle.get();
    ch.publish(ORDERS_EXCHANGE, ORDER_CREATED_KEY, Buffer.from(JSON.stringify(order)), {
      messageId: order.id,
      contentType: 'application/json',
      persistent: true,
    });
    await ch.waitForConfirms();
    this.counters.ordersPublished++;
    return { id: order.id };
  }

  /**
   * Request/reply over RabbitMQ: the `@RabbitRpc` handler (OrdersHandler.quote) answers; no reply
   * within 2 s → `RpcTimeoutError`, answered here as 504.
   */
  @Post('quote')
  @HttpCode(200)
  async quote(
    @Body(new ValidationPipe({ transform: true })) body: QuoteRequestDto,
  ): Promise<Quote> {
    try {
      return await this.rabbit.request<Quote>('', QUOTES_QUEUE, body, { timeoutMs: 2_000 });
    } catch (error) {
      if (error instanceof RpcTimeoutError) throw new GatewayTimeoutException(error.message);
      throw error;
    }
  }

  @Get('backlog')
  async backlog(): Promise<{ backlog: number }> {
    return { backlog: await this.backlogs.count() };
  }
}

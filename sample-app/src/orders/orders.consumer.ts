import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { ConsumeMessage } from 'amqplib';
import { type ConsumerHandle, RabbitMqPool } from 'nestjs-mq-pool';
import { AppCounters } from '../app-counters.js';
import { ORDERS_QUEUE } from '../sample-config.js';
import type { Order } from './order.js';

/**
 * Processes orders. The pool acks when the handler resolves and nacks when it throws; the
 * consumer is re-attached after every reconnect and cancelled (in-flight handlers awaited) on shutdown.
 */
@Injectable()
export class OrdersConsumer implements OnApplicationBootstrap {
  private readonly logger = new Logger(OrdersConsumer.name);
  private handle: ConsumerHandle | undefined;

  constructor(
    private readonly rabbit: RabbitMqPool,
    private readonly counters: AppCounters,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.handle = await this.rabbit.consume(ORDERS_QUEUE, (message) => this.process(message), {
      prefetch: 50,
    });
  }

  get active(): boolean {
    return this.handle?.active ?? false;
  }

  private async process(message: ConsumeMessage): Promise<void> {
    const order = JSON.parse(message.content.toString()) as Order;
    if (order.quantity > 1_000)
      this.logger.warn(`large order ${order.id}: ${order.quantity} × ${order.sku}`);
    this.counters.ordersConsumed++;
  }
}

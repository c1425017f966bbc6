import { BadRequestException, Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { RabbitMqPool } from 'nestjs-mq-pool';
import { AppCounters } from '../app-counters.js';
import { ORDER_CREATED_KEY, ORDERS_EXCHANGE } from '../sample-config.js';
import type { NewOrder, Order } from './order.js';

@Injectable()
export class OrdersService {
  constructor(
    private readonly rabbit: RabbitMqPool,
    private readonly counters: AppCounters,
  ) {}

  /** Publishes the order; resolves only once the broker confirmed it (the pool pipelines confirms). */
  async place(input: NewOrder): Promise<Order> {
    const order = toOrder(input);
    // The order id doubles as the AMQP messageId, which consumers can deduplicate on.
    await this.rabbit.publish(ORDERS_EXCHANGE, ORDER_CREATED_KEY, order, {
      messageId: order.id,
      persistent: true,
    });
    this.counters.ordersPublished++;
    return order;
  }
}

export function toOrder(input: NewOrder): Order {
  if (typeof input.sku !== 'string' || input.sku.length === 0)
    throw new BadRequestException('sku must be a non-empty string');
  const quantity = input.quantity ?? 1;
  if (typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) {
    throw new BadRequestException('quantity must be a positive integer');
  }
  return { id: randomUUID(), sku: input.sku, quantity, createdAt: new Date().toISOString() };
}

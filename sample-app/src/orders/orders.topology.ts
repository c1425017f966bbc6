import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RabbitMqPool, WithChannel } from 'nestjs-mq-pool';
import { ORDER_CREATED_KEY, ORDERS_EXCHANGE, ORDERS_QUEUE } from '../sample-config.js';

/** Declares the orders exchange and queue at boot, on one leased channel (`@WithChannel()`). */
@Injectable()
export class OrdersTopology implements OnModuleInit {
  constructor(private readonly rabbit: RabbitMqPool) {}

  async onModuleInit(): Promise<void> {
    await this.declare();
  }

  /** One channel for the whole method; `currentChannel()` reaches it without passing it around. */
  @WithChannel()
  async declare(): Promise<void> {
    const ch = this.rabbit.currentChannel()!;
    await ch.assertExchange(ORDERS_EXCHANGE, 'topic', { durable: true });
    await ch.assertQueue(ORDERS_QUEUE, { durable: true });
    await ch.bindQueue(ORDERS_QUEUE, ORDERS_EXCHANGE, ORDER_CREATED_KEY);
  }

  /** Messages waiting in the orders queue (a passive check on a leased channel). */
  @WithChannel()
  async backlog(): Promise<number> {
    const { messageCount } = await this.rabbit.currentChannel()!.checkQueue(ORDERS_QUEUE);
    return messageCount;
  }
}

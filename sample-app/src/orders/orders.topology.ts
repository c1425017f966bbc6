import { Injectable, type OnModuleInit } from '@nestjs/common';
import { RabbitMqPool, WithChannel } from 'nestjs-mq-pool';
import { ORDERS_EXCHANGE, ORDERS_QUEUE } from '../sample-config.js';

/**
 * Declares the orders exchange at boot (`onModuleInit`, so it exists before the handlers bind their
 * queues to it in `onApplicationBootstrap`), on one leased channel (`@WithChannel()`). The queue
 * itself is declared by `@RabbitSubscribe`.
 */
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
  }

  /** Messages waiting in the orders queue (a passive check on a leased channel). */
  @WithChannel()
  async backlog(): Promise<number> {
    const { messageCount } = await this.rabbit.currentChannel()!.checkQueue(ORDERS_QUEUE);
    return messageCount;
  }
}

import { Injectable } from '@nestjs/common';
import { RabbitMqPool, WithChannel } from 'nestjs-mq-pool';
import { ORDERS_QUEUE } from '../sample-config.js';

/**
 * `@WithChannel()`: one leased channel for the whole method, reached with `currentChannel()`
 * without passing it around, released when the method settles.
 */
@Injectable()
export class OrdersBacklog {
  constructor(private readonly rabbit: RabbitMqPool) {}

  /** Messages waiting in the orders queue (a passive check on a leased channel). */
  @WithChannel()
  async count(): Promise<number> {
    const { messageCount } = await this.rabbit.currentChannel()!.checkQueue(ORDERS_QUEUE);
    return messageCount;
  }
}

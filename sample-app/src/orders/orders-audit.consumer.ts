import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import type { ConsumeMessage } from 'amqplib';
import { RabbitMqPool } from 'nestjs-mq-pool';
import { AppCounters } from '../app-counters.js';
import { AUDIT_QUEUE } from '../sample-config.js';

/**
 * The low-level API, for comparison with `OrdersHandler`: `pool.consume()` hands the raw amqplib
 * message to the handler on a dedicated channel, re-attached after reconnects and drained on
 * shutdown; resolve → ack, throw → nack (requeued once, then rejected). Parsing, validation,
 * retries and dead-lettering are yours to write. The queue and its binding come from
 * `rabbitmq.topology` (app.module.ts), declared before any consumer attaches.
 */
@Injectable()
export class OrdersAuditConsumer implements OnApplicationBootstrap {
  private readonly logger = new Logger(OrdersAuditConsumer.name);

  constructor(
    private readonly rabbit: RabbitMqPool,
    private readonly counters: AppCounters,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.rabbit.consume(AUDIT_QUEUE, (message) => this.audit(message), { prefetch: 50 });
  }

  private audit(message: ConsumeMessage): void {
    const { id } = JSON.parse(message.content.toString()) as { id?: unknown };
    this.logger.debug(`audited order ${String(id)} (${message.fields.routingKey})`);
    this.counters.ordersAudited++;
  }
}

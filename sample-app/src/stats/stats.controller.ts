import { Controller, Get } from '@nestjs/common';
import { KafkaPool, RabbitMqPool } from 'nestjs-mq-pool';
import { AppCounters } from '../app-counters.js';

@Controller('stats')
export class StatsController {
  constructor(
    private readonly counters: AppCounters,
    private readonly rabbit: RabbitMqPool,
    private readonly kafka: KafkaPool,
  ) {}

  @Get()
  stats(): Record<string, unknown> {
    const c = this.counters;
    return {
      orders: {
        published: c.ordersPublished,
        consumed: c.ordersConsumed,
        audited: c.ordersAudited,
      },
      events: {
        sent: c.eventsSent,
        consumed: c.eventsConsumed,
        transactions: c.transactionsCommitted,
      },
      pools: { rabbitmq: this.rabbit.stats(), kafka: this.kafka.stats() },
    };
  }
}

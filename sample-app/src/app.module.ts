import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { MqPoolModule } from 'nestjs-mq-pool';
import { AppCounters } from './app-counters.js';
import { EventsController } from './events/events.controller.js';
import { EventsHandler } from './events/events.handler.js';
import { HealthController } from './health/health.controller.js';
import { OrdersController } from './orders/orders.controller.js';
import { OrdersHandler } from './orders/orders.handler.js';
import { OrdersService } from './orders/orders.service.js';
import { OrdersBacklog } from './orders/orders-backlog.js';
import { OrdersAuditConsumer } from './orders/orders-audit.consumer.js';
import { AUDIT_QUEUE, ORDERS_EXCHANGE, SHUTDOWN_DRAIN_TIMEOUT_MS } from './sample-config.js';
import { StatsController } from './stats/stats.controller.js';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    // Serves prom-client's default registry at /metrics; the pools register their metrics there.
    PrometheusModule.register({ defaultMetrics: { enabled: false } }),
    TerminusModule,
    MqPoolModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        rabbitmq: {
          url: config.get<string>('AMQP_URL', 'amqp://guest:guest@127.0.0.1:5672'),
          channelsPerConnection: 8,
          connectionName: 'sample-app',
          // Declared at start, before any handler attaches, and again after every reconnect. The
          // handler queues themselves are declared by @RabbitSubscribe/@RabbitRpc.
          topology: {
            exchanges: [{ name: ORDERS_EXCHANGE, type: 'topic', options: { durable: true } }],
            // The audit queue lives as long as the app's consumer (a sample; a real audit trail is durable).
            queues: [{ name: AUDIT_QUEUE, options: { durable: false, autoDelete: true } }],
            bindings: [{ exchange: ORDERS_EXCHANGE, queue: AUDIT_QUEUE, routingKey: 'order.#' }],
          },
        },
        kafka: {
          brokers: config.get<string>('KAFKA_BROKERS', '127.0.0.1:9092').split(','),
          clientId: 'sample-app',
          // A demo convenience: the sample's topics appear on first use. Production clusters usually
          // disable auto-creation and create topics (partitions, replication) up front.
          allowAutoTopicCreation: true,
          // One prefix per instance: set it per pod (e.g. from the pod name) to run several replicas.
          transactions: {
            maxProducers: 4,
            transactionalIdPrefix: config.get<string>(
              'KAFKA_TRANSACTIONAL_ID_PREFIX',
              'sample-app',
            ),
          },
        },
        shutdown: { drainTimeoutMs: SHUTDOWN_DRAIN_TIMEOUT_MS },
      }),
    }),
  ],
  controllers: [OrdersController, EventsController, HealthController, StatsController],
  providers: [
    AppCounters,
    OrdersService,
    OrdersBacklog,
    OrdersHandler,
    OrdersAuditConsumer,
    EventsHandler,
  ],
})
export class AppModule {}

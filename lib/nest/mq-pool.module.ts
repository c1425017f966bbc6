import { Module } from '@nestjs/common';
import { MqPoolConfigurableModule } from './mq-pool.module-definition.js';

/**
 * Pools for RabbitMQ and/or Kafka, as Nest providers.
 *
 * ```ts
 * MqPoolModule.forRoot({ rabbitmq: { url: process.env.AMQP_URL } })
 * MqPoolModule.forRootAsync({
 *   name: 'orders',                        // static: tokens derive from it
 *   imports: [ConfigModule],
 *   inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ kafka: { brokers: [config.getOrThrow('KAFKA_BROKER')] } }),
 * })
 * ```
 *
 * Each registration (one per `name`) provides its pools (`RabbitMqPool`/`KafkaPool` by class for
 * the default one, `@InjectRabbitMqPool(name)`/`@InjectKafkaPool(name)` for any), starts them on
 * module init, drains them on shutdown, registers their metrics, and — unless
 * `httpBackpressure: false` — a global filter turning back-pressure errors into 503.
 */
@Module({})
export class MqPoolModule extends MqPoolConfigurableModule {}

import { Module } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { KafkaHealthIndicator } from '../health/kafka.health.js';
import { MqPoolReadiness } from '../health/mq-pool-readiness.js';
import { RabbitMqHealthIndicator } from '../health/rabbitmq.health.js';
import { MqPoolShutdown } from '../shutdown/mq-pool-shutdown.service.js';
import { AppPools } from './app-pools.js';

/**
 * What all registrations of one app share, instantiated once per app (a static module imported by
 * every `MqPoolModule` registration): the app's pool set, its readiness, the health indicators and
 * the one shutdown drain. `HealthIndicatorService` is provided here so the indicators work whether
 * or not the app's health module imported `TerminusModule`.
 */
@Module({
  providers: [
    AppPools,
    MqPoolReadiness,
    HealthIndicatorService,
    RabbitMqHealthIndicator,
    KafkaHealthIndicator,
    MqPoolShutdown,
  ],
  exports: [AppPools, MqPoolReadiness, RabbitMqHealthIndicator, KafkaHealthIndicator],
})
export class MqPoolCoreModule {}

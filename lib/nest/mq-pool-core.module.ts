import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { HealthIndicatorService } from '@nestjs/terminus';
import { KafkaHealthIndicator } from '../health/kafka.health.js';
import { MqPoolReadiness } from '../health/mq-pool-readiness.js';
import { RabbitMqHealthIndicator } from '../health/rabbitmq.health.js';
import { MqPoolShutdown } from '../shutdown/mq-pool-shutdown.service.js';
import { AppPools } from './app-pools.js';
import { MessageHandlerExplorer } from './messaging/message-handler-explorer.js';

/**
 * What all registrations of one app share, instantiated once per app (a static module imported by
 * every `MqPoolModule` registration): the app's pool set, its readiness, the health indicators,
 * the one shutdown drain and the one explorer of declarative message handlers. `HealthIndicatorService` is provided here so the indicators work whether
 * or not the app's health module imported `TerminusModule`.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    AppPools,
    MqPoolReadiness,
    HealthIndicatorService,
    RabbitMqHealthIndicator,
    KafkaHealthIndicator,
    MqPoolShutdown,
    MessageHandlerExplorer,
  ],
  exports: [AppPools, MqPoolReadiness, RabbitMqHealthIndicator, KafkaHealthIndicator],
})
export class MqPoolCoreModule {}

import type { DynamicModule, Provider } from '@nestjs/common';
import { APP_FILTER, ModulesContainer } from '@nestjs/core';
import { register as globalRegistry } from 'prom-client';
import { KafkaPool } from '../kafka/kafka-pool.js';
import { PrometheusKafkaMetricsRecorder } from '../metrics/kafka-metrics.recorder.js';
import { getMqMetrics, type MqMetrics } from '../metrics/mq-metrics.js';
import { PrometheusPoolMetricsRecorder } from '../metrics/pool-metrics.recorder.js';
import { PrometheusRabbitMqMetricsRecorder } from '../metrics/rabbitmq-metrics.recorder.js';
import { RabbitMqPool } from '../rabbitmq/rabbitmq-pool.js';
import { AppPools } from './app-pools.js';
import { MqBackpressureFilter } from './backpressure.filter.js';
import { MqPoolCoreModule } from './mq-pool-core.module.js';
import type { MqPoolModuleExtras, ResolvedMqPoolModuleOptions } from './mq-pool-module-options.js';
import {
  assertHttpBackpressure,
  resolveModuleOptions,
} from './mq-pool-module-options.validator.js';
import { DEFAULT_POOL_NAME, getPoolToken } from './mq-pool.constants.js';
import {
  getMetricsToken,
  getRegistrationToken,
  getResolvedOptionsToken,
  MQ_POOL_RAW_OPTIONS,
} from './mq-pool.internal-constants.js';
import { assertPoolName } from './pool-name.js';
import { PoolRegistration } from './pool-registration.js';
import { UnconfiguredPool } from './unconfigured-pool.js';

/**
 * Turns the builder's dynamic module into one registration. Runs when `forRoot()`/`forRootAsync()`
 * is evaluated, with the static extras only, so every per-name provider exists before an async
 * options factory runs; the options themselves are validated at startup (resolved-options provider).
 */
export function buildRegistration(
  definition: DynamicModule,
  extras: Partial<MqPoolModuleExtras>,
): DynamicModule {
  const name = extras.name ?? DEFAULT_POOL_NAME;
  assertPoolName(name);
  const httpBackpressure = extras.httpBackpressure ?? true;
  assertHttpBackpressure(httpBackpressure);

  const optionsToken = getResolvedOptionsToken(name);
  const metricsToken = getMetricsToken(name);
  const rabbitToken = getPoolToken('rabbitmq', name);
  const kafkaToken = getPoolToken('kafka', name);

  const providers: Provider[] = [
    ...(definition.providers ?? []),
    {
      provide: optionsToken,
      useFactory: (raw: unknown) => resolveModuleOptions(raw, name),
      inject: [MQ_POOL_RAW_OPTIONS],
    },
    {
      provide: metricsToken,
      useFactory: (o: ResolvedMqPoolModuleOptions): MqMetrics | null =>
        o.metrics.enabled ? getMqMetrics(o.metrics.registry ?? globalRegistry) : null,
      inject: [optionsToken],
    },
    {
      provide: rabbitToken,
      useFactory: (o: ResolvedMqPoolModuleOptions, m: MqMetrics | null) =>
        o.rabbitmq
          ? new RabbitMqPool(o.rabbitmq, {
              name,
              logger: o.logger,
              ...(m
                ? {
                    metrics: new PrometheusRabbitMqMetricsRecorder(m, name),
                    poolMetrics: new PrometheusPoolMetricsRecorder(m, name, 'rabbitmq'),
                  }
                : {}),
            })
          : new UnconfiguredPool('rabbitmq', name),
      inject: [optionsToken, metricsToken],
    },
    {
      provide: kafkaToken,
      useFactory: (o: ResolvedMqPoolModuleOptions, m: MqMetrics | null) =>
        o.kafka
          ? new KafkaPool(o.kafka, {
              name,
              logger: o.logger,
              ...(m
                ? {
                    metrics: new PrometheusKafkaMetricsRecorder(m, name),
                    poolMetrics: new PrometheusPoolMetricsRecorder(m, name, 'kafka'),
                  }
                : {}),
            })
          : new UnconfiguredPool('kafka', name),
      inject: [optionsToken, metricsToken],
    },
    {
      provide: getRegistrationToken(name),
      useFactory: (
        o: ResolvedMqPoolModuleOptions,
        rabbit: RabbitMqPool | UnconfiguredPool,
        kafka: KafkaPool | UnconfiguredPool,
        m: MqMetrics | null,
        appPools: AppPools,
        modules: ModulesContainer,
      ) => new PoolRegistration(o, rabbit, kafka, m, appPools, modules),
      inject: [optionsToken, rabbitToken, kafkaToken, metricsToken, AppPools, ModulesContainer],
    },
  ];
  const exports: DynamicModule['exports'] = [rabbitToken, kafkaToken, MqPoolCoreModule];
  if (name === DEFAULT_POOL_NAME) {
    // The default pools are injectable by class too.
    providers.push(
      { provide: RabbitMqPool, useExisting: rabbitToken },
      { provide: KafkaPool, useExisting: kafkaToken },
    );
    exports.push(RabbitMqPool, KafkaPool);
  }
  if (httpBackpressure) providers.push({ provide: APP_FILTER, useClass: MqBackpressureFilter });

  return {
    ...definition,
    global: extras.isGlobal ?? false,
    imports: [...(definition.imports ?? []), MqPoolCoreModule],
    providers,
    exports,
  };
}

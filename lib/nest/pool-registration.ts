import type { OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import type { ModulesContainer } from '@nestjs/core';
import type { KafkaPool } from '../kafka/kafka-pool.js';
import type { MqMetrics } from '../metrics/mq-metrics.js';
import type { RabbitMqPool } from '../rabbitmq/rabbitmq-pool.js';
import type { AppPoolEntry, AppPools } from './app-pools.js';
import type { ResolvedMqPoolModuleOptions } from './mq-pool-module-options.js';
import { kafkaStatsSource, rabbitMqStatsSource } from './pool-stats-sources.js';
import { errorMessage } from '../core/with-deadline.js';
import { poolRegistry } from './pool-registry.js';
import { assertNoUnconfiguredInjection, UnconfiguredPool } from './unconfigured-pool.js';

/**
 * Lifecycle of one `MqPoolModule` registration (one per `name`):
 * - `onModuleInit`: fails startup if something injected a pool of an unconfigured broker; makes the
 *   pools findable (process registry for decorators, app set for health and drain, metric gauges);
 *   starts them (connect, warm up). Consumers are the app's: start them in `onApplicationBootstrap`.
 *   If a start fails, what this registration started is closed again and startup fails — unless
 *   `startup.failFast` is false: then the pools keep reconnecting and readiness says down.
 * - draining is app-wide (`MqPoolShutdown`, before the HTTP server closes);
 * - `onApplicationShutdown`: closes whatever the drain left and un-registers.
 */
export class PoolRegistration implements OnModuleInit, OnApplicationShutdown {
  private readonly entry: AppPoolEntry;
  private readonly stopSampling: Array<() => void> = [];
  private readonly placeholders: UnconfiguredPool[];

  constructor(
    readonly options: ResolvedMqPoolModuleOptions,
    rabbitmq: RabbitMqPool | UnconfiguredPool,
    kafka: KafkaPool | UnconfiguredPool,
    private readonly metrics: MqMetrics | null,
    private readonly appPools: AppPools,
    private readonly modules: ModulesContainer,
  ) {
    this.entry = {
      name: options.name,
      options,
      rabbitmq: rabbitmq instanceof UnconfiguredPool ? undefined : rabbitmq,
      kafka: kafka instanceof UnconfiguredPool ? undefined : kafka,
    };
    this.placeholders = [rabbitmq, kafka].filter(
      (p): p is UnconfiguredPool => p instanceof UnconfiguredPool,
    );
  }

  async onModuleInit(): Promise<void> {
    assertNoUnconfiguredInjection(this.modules, this.placeholders);
    const { name } = this.entry;
    poolRegistry.register(name, this, { rabbitmq: this.entry.rabbitmq, kafka: this.entry.kafka });
    this.appPools.add(this.entry);
    if (this.metrics) {
      if (this.entry.rabbitmq)
        this.stopSampling.push(
          this.metrics.addSource(rabbitMqStatsSource(this.entry.rabbitmq, name)),
        );
      if (this.entry.kafka)
        this.stopSampling.push(this.metrics.addSource(kafkaStatsSource(this.entry.kafka, name)));
    }
    const starts = [this.entry.rabbitmq?.start(), this.entry.kafka?.start()];
    if (this.options.failFast) {
      // The first failure ends start-up: a refused password must not wait for the other broker's
      // start deadline. Closing the pools settles the other start too (Promise.all observes it).
      try {
        await Promise.all(starts);
      } catch (error) {
        await this.closeAndForget();
        throw error;
      }
      return;
    }
    const failures = (await Promise.allSettled(starts))
      .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
      .map((r) => r.reason as unknown);
    // Said once, at error level: the pools keep retrying (at debug level past the first attempts).
    for (const error of failures) {
      this.options.logger.error(
        `${errorMessage(error)} — starting anyway (startup.failFast is false): readiness stays down and the pool keeps reconnecting in the background`,
        { pool: name },
      );
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await this.closeAndForget();
  }

  private async closeAndForget(): Promise<void> {
    const closing = [this.entry.rabbitmq, this.entry.kafka].map((pool) =>
      pool
        ?.close()
        .catch((e: unknown) =>
          this.options.logger.error('closing a pool failed', { pool: this.entry.name, error: e }),
        ),
    );
    await Promise.all(closing);
    for (const stop of this.stopSampling.splice(0)) stop();
    this.appPools.remove(this.entry.name);
    poolRegistry.unregister(this.entry.name, this);
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { AppPools } from '../nest/app-pools.js';
import { DEFAULT_POOL_NAME } from '../nest/mq-pool.constants.js';
import { checkPoolHealth } from './check-pool-health.js';
import type { MqHealthCheckOptions } from './mq-health-check-options.js';
import { MqPoolReadiness } from './mq-pool-readiness.js';

/**
 * Terminus indicator of a Kafka pool, for the READINESS endpoint (see `RabbitMqHealthIndicator`
 * for liveness vs readiness). Down when the app is shutting down, when the shared producer is
 * reconnecting, the pool is draining or saturated, a managed consumer failed, a declared
 * `@KafkaSubscribe` handler has not joined its group (yet, or again after a restart), or the admin
 * client's metadata request (over its existing connection) does not answer within `timeoutMs`.
 */
@Injectable()
export class KafkaHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(MqPoolReadiness) private readonly readiness: MqPoolReadiness,
    @Inject(AppPools) private readonly pools: AppPools,
  ) {}

  isHealthy<const Key extends string>(
    key: Key,
    opts?: MqHealthCheckOptions,
  ): Promise<HealthIndicatorResult<Key>> {
    const pool = this.pools.kafka(opts?.pool);
    const name = opts?.pool ?? DEFAULT_POOL_NAME;
    return checkPoolHealth(this.indicators, this.readiness, key, pool, opts, () =>
      this.readiness.handlersDownReason('kafka', name),
    );
  }
}

import { Inject, Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { AppPools } from '../nest/app-pools.js';
import { DEFAULT_POOL_NAME } from '../nest/mq-pool.constants.js';
import { checkPoolHealth } from './check-pool-health.js';
import type { MqHealthCheckOptions } from './mq-health-check-options.js';
import { MqPoolReadiness } from './mq-pool-readiness.js';

/**
 * Terminus indicator of a RabbitMQ pool, for the READINESS endpoint:
 *
 * ```ts
 * @Get('health/ready') @HealthCheck()
 * ready() { return this.health.check([() => this.rabbit.isHealthy('rabbitmq', { timeoutMs: 1000 })]); }
 * ```
 *
 * Down when the app is shutting down, when the pool is reconnecting, blocked by the broker,
 * draining or saturated, when some of its consumers or declared message handlers are not attached
 * (before their first attach, or re-attaching after a reconnect), or when a ping over an existing connection does not answer within
 * `timeoutMs`. Do NOT put it in the liveness endpoint: a broker outage is not fixed by
 * restarting the process, and a liveness probe failing during an outage would restart every
 * replica at once. Liveness = the event loop answers (an empty check).
 */
@Injectable()
export class RabbitMqHealthIndicator {
  constructor(
    @Inject(HealthIndicatorService) private readonly indicators: HealthIndicatorService,
    @Inject(MqPoolReadiness) private readonly readiness: MqPoolReadiness,
    @Inject(AppPools) private readonly pools: AppPools,
  ) {}

  isHealthy<const Key extends string>(
    key: Key,
    opts?: MqHealthCheckOptions,
  ): Promise<HealthIndicatorResult<Key>> {
    const pool = this.pools.rabbitmq(opts?.pool);
    const name = opts?.pool ?? DEFAULT_POOL_NAME;
    return checkPoolHealth(this.indicators, this.readiness, key, pool, opts, () => {
      const handlers = this.readiness.handlersDownReason('rabbitmq', name);
      if (handlers !== undefined) return handlers;
      // Consumers re-attach after a reconnect; until they all have, this instance is not doing its job.
      const { consumers } = pool.stats();
      return consumers.active < consumers.total
        ? `consumers not attached (${consumers.active}/${consumers.total} active)`
        : undefined;
    });
  }
}

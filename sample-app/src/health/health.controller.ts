import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { KafkaHealthIndicator, RabbitMqHealthIndicator } from 'nestjs-mq-pool';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly rabbitmq: RabbitMqHealthIndicator,
    private readonly kafka: KafkaHealthIndicator,
  ) {}

  /**
   * Readiness: both brokers reachable (a bounded ping over an existing connection) and the pools
   * neither draining, saturated nor reconnecting. Goes down first on shutdown.
   */
  @Get()
  @HealthCheck()
  readiness(): Promise<HealthCheckResult> {
    return this.health.check([
      () => this.rabbitmq.isHealthy('rabbitmq', { timeoutMs: 1_000 }),
      () => this.kafka.isHealthy('kafka', { timeoutMs: 2_000 }),
    ]);
  }

  /**
   * Liveness: the process answers. Never tied to the brokers, or an orchestrator would restart
   * every replica during a broker outage, which fixes nothing.
   */
  @Get('live')
  liveness(): { status: 'ok' } {
    return { status: 'ok' };
  }
}

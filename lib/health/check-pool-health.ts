import type { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { boundedPing } from './bounded-ping.js';
import {
  DEFAULT_HEALTH_PING_TIMEOUT_MS,
  type MqHealthCheckOptions,
} from './mq-health-check-options.js';
import type { MqPoolReadiness } from './mq-pool-readiness.js';
import { safeDetails } from './safe-details.js';

/** What a health check needs from an adapter pool (both adapters provide it). */
export interface HealthCheckablePool {
  /** State only, no I/O: reconnecting, blocked, draining, saturated, consumers not as desired… */
  health(): { healthy: boolean; reason?: string; details: Record<string, unknown> };
  /** Round trip over an existing connection, bounded by `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
}

/**
 * Readiness of one pool: down when the app is shutting down, when the pool's own state says so, or
 * when the bounded ping fails. Details carry the pool's stats, never hosts or credentials.
 */
export async function checkPoolHealth<const Key extends string>(
  indicators: HealthIndicatorService,
  readiness: MqPoolReadiness,
  key: Key,
  pool: HealthCheckablePool,
  opts: MqHealthCheckOptions | undefined,
  /** Broker-specific state check beyond `pool.health()`; returns why it is down, if it is. */
  extraDownReason?: () => string | undefined,
): Promise<HealthIndicatorResult<Key>> {
  const session = indicators.check(key);
  const state = pool.health();
  const details = safeDetails(state.details) as Record<string, unknown>;
  if (!readiness.ready) return session.down({ ...details, reason: 'shutting down' });
  if (!state.healthy) return session.down({ ...details, reason: state.reason ?? 'unhealthy' });
  const extra = extraDownReason?.();
  if (extra !== undefined) return session.down({ ...details, reason: extra });
  if (opts?.ping !== false) {
    const failure = await boundedPing(
      (ms) => pool.ping(ms),
      opts?.timeoutMs ?? DEFAULT_HEALTH_PING_TIMEOUT_MS,
    );
    if (failure !== undefined) return session.down({ ...details, reason: failure });
  }
  return session.up(details);
}

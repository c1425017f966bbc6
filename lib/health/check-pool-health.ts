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
  /**
   * State only, no I/O: reconnecting, blocked, draining, saturated, consumers not as desired…
   * `pingClears`: down only for a past failure that a successful `ping()` disproves.
   */
  health(): {
    healthy: boolean;
    reason?: string;
    pingClears?: boolean;
    details: Record<string, unknown>;
  };
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
  let state = pool.health();
  let details = safeDetails(state.details) as Record<string, unknown>;
  if (!readiness.ready) return session.down({ ...details, reason: 'shutting down' });
  const pingEnabled = opts?.ping !== false;
  const ping = (): Promise<string | undefined> =>
    boundedPing((ms) => pool.ping(ms), opts?.timeoutMs ?? DEFAULT_HEALTH_PING_TIMEOUT_MS);
  let pinged = false;
  if (!state.healthy && state.pingClears === true && pingEnabled) {
    // Down only for a past failure (a Kafka send): a pool out of rotation gets no traffic that
    // could clear it, so a round trip decides instead — else readiness would never come back.
    const failure = await ping();
    if (failure !== undefined) {
      return session.down({ ...details, reason: `${state.reason ?? 'unhealthy'}; ${failure}` });
    }
    pinged = true;
    state = pool.health();
    details = safeDetails(state.details) as Record<string, unknown>;
  }
  if (!state.healthy) return session.down({ ...details, reason: state.reason ?? 'unhealthy' });
  const extra = extraDownReason?.();
  if (extra !== undefined) return session.down({ ...details, reason: extra });
  if (pingEnabled && !pinged) {
    const failure = await ping();
    if (failure !== undefined) return session.down({ ...details, reason: failure });
  }
  return session.up(details);
}

/** Options of `RabbitMqHealthIndicator.isHealthy()` / `KafkaHealthIndicator.isHealthy()`. */
export interface MqHealthCheckOptions {
  /** Registration name; default `'default'`. */
  pool?: string;
  /** Deadline of the broker ping (default 1000 ms). The check is down once it passes. */
  timeoutMs?: number;
  /**
   * Default `true`: besides the pool's state, ping the broker over an EXISTING connection
   * (never a new connection per probe). `false` reads state only (no I/O).
   */
  ping?: boolean;
}

export const DEFAULT_HEALTH_PING_TIMEOUT_MS = 1_000;

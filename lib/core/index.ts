// Public surface of the framework-free pool core.
export { fullJitterBackoff, type BackoffOptions } from './backoff.js';
export { SYSTEM_CLOCK, type Clock, type TimerHandle } from './clock.js';
export * from './errors/index.js';
export { NO_RETRY, type HandlerRetryPolicy } from './handler-retry-policy.js';
export { JSON_SERIALIZER } from './json-serializer.js';
export type { Lease } from './lease.js';
export type { MessageSerializer } from './message-serializer.js';
export { NOOP_LOGGER, type MqLogger } from './logger.js';
export {
  NOOP_POOL_METRICS,
  type AcquireFailureReason,
  type PoolMetricsRecorder,
} from './metrics-recorder.js';
export { Pool, type AcquireOptions } from './pool.js';
export type { DestroyReason, PoolEvents } from './pool-events.js';
export {
  DEFAULT_POOL_OPTIONS,
  type LeakSiteCapture,
  type PoolOptions,
  type ResolvedPoolOptions,
} from './pool-options.js';
export type { DrainReport, PoolStats } from './pool-stats.js';
export { resolvePoolOptions } from './resolve-pool-options.js';
export { redactUrl } from './redact-url.js';
export type { ResourceFactory } from './resource-factory.js';

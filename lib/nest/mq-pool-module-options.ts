import type { LoggerService } from '@nestjs/common';
import type { MetricsRegistry } from '../metrics/mq-metrics.js';
import type { MqLogger } from '../core/logger.js';
import type { KafkaPoolOptions } from '../kafka/kafka-options.js';
import type { RabbitMqPoolOptions } from '../rabbitmq/rabbitmq-options.js';

export interface MqPoolShutdownOptions {
  /**
   * One budget for the whole drain of this registration (RabbitMQ and Kafka drain side by side):
   * consumers cancelled, in-flight handlers, leases and confirms awaited, then connections closed.
   * Must cover `rabbitmq.confirmTimeoutMs` and `kafka.sendTimeoutMs`, and fit the orchestrator's
   * grace period (Kubernetes: 30 s by default).
   */
  drainTimeoutMs?: number;
}

export interface MqPoolStartupOptions {
  /**
   * Default `true`: a broker that cannot be reached at boot fails startup with a typed error —
   * at once when it refuses in a way no retry fixes (`PermanentConnectError`: credentials, vhost,
   * TLS), else once the adapter's start deadline passed (`rabbitmq.connectTimeoutMs`,
   * `kafka.startTimeoutMs`). The process is held open meanwhile, so an app's `main` sees the
   * rejection (and exits non-zero) instead of ending silently. `false`: the app boots anyway and
   * logs the error once; readiness reports the pool down and it keeps reconnecting in the
   * background (calls fail with the adapters' deadline errors until it is up).
   */
  failFast?: boolean;
}

export interface MqPoolMetricsOptions {
  /** Default `true`. `false` records nothing (no-op recorders, no metric registered). */
  enabled?: boolean;
  /** Default: prom-client's global `register`, the one `PrometheusModule.register()` serves. */
  registry?: MetricsRegistry;
}

export interface MqPoolLoggingOptions {
  /**
   * Default `'text'`: the message with its fields appended as one JSON string (any Nest logger keeps
   * it on one line). `'json'`: the Nest `LoggerService` receives one object `{ msg, ...fields }`, so a
   * JSON logger (pino, winston, Nest's `ConsoleLogger({ json: true })`) emits the fields as fields.
   * Either way, a line written inside a span carries `trace_id` and `span_id`.
   */
  format?: 'text' | 'json';
}

/** Options of `MqPoolModule.forRoot()` (and the value `forRootAsync`'s factory returns). */
export interface MqPoolModuleOptions {
  /**
   * Registration name (default `'default'`). Static: in `forRootAsync` pass it next to `useFactory`,
   * since the pools' injection tokens derive from it before any factory runs.
   */
  name?: string;
  rabbitmq?: RabbitMqPoolOptions;
  kafka?: KafkaPoolOptions;
  startup?: MqPoolStartupOptions;
  shutdown?: MqPoolShutdownOptions;
  metrics?: MqPoolMetricsOptions;
  /**
   * Default `true`: back-pressure errors (`PoolExhaustedError`, `AcquireTimeoutError`,
   * `PoolClosedError`) escaping an HTTP handler become `503` with `Retry-After`. Static like `name`
   * (it decides whether a global filter is registered).
   */
  httpBackpressure?: boolean;
  /** Default: Nest's `Logger` with context `MqPool:<name>`. Accepts the library's `MqLogger` or a Nest `LoggerService`. */
  logger?: MqLogger | LoggerService;
  /** How lines reach a Nest logger (ignored for an `MqLogger`, which gets the fields object as is). */
  logging?: MqPoolLoggingOptions;
}

/**
 * Static extras of a registration: known when `forRoot()`/`forRootAsync()` is evaluated, before any
 * async factory runs, because they decide which providers exist (per-name pool tokens, the global
 * 503 filter) and whether the module is global.
 */
export interface MqPoolModuleExtras {
  /** Registration name; the pools' tokens derive from it. Default `'default'`. */
  name: string;
  /** Make the pools injectable app-wide without importing the module again. Default `false`. */
  isGlobal: boolean;
  /** Register the 503 + Retry-After filter for back-pressure errors. Default `true`. */
  httpBackpressure: boolean;
}

/** Options after validation and defaults: what the registration runs on. */
export interface ResolvedMqPoolModuleOptions {
  name: string;
  rabbitmq: RabbitMqPoolOptions | undefined;
  kafka: KafkaPoolOptions | undefined;
  failFast: boolean;
  drainTimeoutMs: number;
  metrics: { enabled: boolean; registry: MetricsRegistry | undefined };
  /** The adapters add `trace_id`/`span_id` of the active span to its lines (NestMqLogger does it itself). */
  logger: MqLogger;
}

/**
 * Defaults of the module layer, in one place (the README documents them).
 * drainTimeoutMs 15 s: above the adapters' default confirm/send deadlines (10 s), so a confirm
 * already written can still be awaited, and well inside Kubernetes' default 30 s grace period.
 */
export const DEFAULT_MODULE_OPTIONS = Object.freeze({
  drainTimeoutMs: 15_000,
  failFast: true,
  metricsEnabled: true,
  httpBackpressure: true,
  logFormat: 'text',
});

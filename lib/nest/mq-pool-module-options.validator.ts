import type { LoggerService } from '@nestjs/common';
import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import type { MqLogger } from '../core/logger.js';
import {
  checkBoolean,
  checkKnownKeys,
  checkMs,
  checkObject,
  describeOptionValue,
} from '../core/option-checks.js';
import type { KafkaPoolOptions } from '../kafka/kafka-options.js';
import { validateKafkaOptions } from '../kafka/kafka-options.validator.js';
import type { RabbitMqPoolOptions } from '../rabbitmq/rabbitmq-options.js';
import { validateRabbitMqOptions } from '../rabbitmq/rabbitmq-options.validator.js';
import {
  DEFAULT_MODULE_OPTIONS,
  type MqPoolModuleOptions,
  type ResolvedMqPoolModuleOptions,
} from './mq-pool-module-options.js';
import { NestMqLogger, type NestMqLogFormat } from './nest-mq-logger.js';
import type { MetricsRegistry } from '../metrics/mq-metrics.js';

const TOP_KEYS: readonly (keyof MqPoolModuleOptions)[] = [
  'name',
  'rabbitmq',
  'kafka',
  'startup',
  'shutdown',
  'metrics',
  'httpBackpressure',
  'logger',
  'logging',
];
// Keys that shape the module (tokens, global filter, global module): given to forRoot/forRootAsync
// directly, never by an async factory, whose result arrives after the providers exist.
const STATIC_KEYS = ['httpBackpressure', 'isGlobal'];

/**
 * Validates the module options of registration `name` once, at startup: unknown keys, bad values
 * and contradictions between keys fail with `InvalidPoolOptionsError` naming the key and the fix.
 * The adapters' own validators check `rabbitmq`/`kafka` (keys prefixed `rabbitmq.`/`kafka.`).
 * Option values are never echoed where they could be secrets (urls, sasl).
 */
export function resolveModuleOptions(input: unknown, name: string): ResolvedMqPoolModuleOptions {
  const o = checkObject(
    input,
    'options',
    'an object like { rabbitmq: { url: "amqp://localhost" } }',
  );
  for (const key of Object.keys(o)) {
    if (STATIC_KEYS.includes(key)) {
      throw new InvalidPoolOptionsError(
        key,
        'was returned by the forRootAsync factory, but it shapes the module before the factory runs',
        `pass it to MqPoolModule.forRootAsync({ ${key}: ..., useFactory }) itself`,
      );
    }
  }
  checkKnownKeys(o, '', TOP_KEYS);
  if (o['name'] !== undefined && o['name'] !== name) {
    throw new InvalidPoolOptionsError(
      'name',
      `the factory returned a name different from the registration's ("${name}")`,
      `pass the name statically: MqPoolModule.forRootAsync({ name: '...', useFactory }), and do not return it from the factory`,
    );
  }
  if (o['rabbitmq'] === undefined && o['kafka'] === undefined) {
    throw new InvalidPoolOptionsError(
      'rabbitmq',
      `registration "${name}" configures no broker (neither rabbitmq nor kafka is set)`,
      'add rabbitmq: { url: "amqp://..." } and/or kafka: { brokers: ["host:9092"] }',
    );
  }

  // The adapters validate again in their constructors; here we need their resolved deadlines.
  const rabbit =
    o['rabbitmq'] === undefined ? undefined : validateRabbitMqOptions(o['rabbitmq'], name);
  const kafka = o['kafka'] === undefined ? undefined : validateKafkaOptions(o['kafka']);

  const startup =
    o['startup'] === undefined
      ? {}
      : checkObject(o['startup'], 'startup', 'an object like { failFast: false }');
  checkKnownKeys(startup, 'startup', ['failFast']);
  const failFast = checkBoolean(startup, 'failFast', 'startup', DEFAULT_MODULE_OPTIONS.failFast);

  const shutdown =
    o['shutdown'] === undefined
      ? {}
      : checkObject(o['shutdown'], 'shutdown', 'an object like { drainTimeoutMs: 15000 }');
  checkKnownKeys(shutdown, 'shutdown', ['drainTimeoutMs']);
  const drainTimeoutMs = checkMs(
    shutdown,
    'drainTimeoutMs',
    'shutdown',
    DEFAULT_MODULE_OPTIONS.drainTimeoutMs,
    1,
    600_000,
  );

  // Cross-field: a drain shorter than a deadline it must wait for abandons that work half-way.
  const mustCover: [string, number][] = [];
  if (rabbit) mustCover.push(['rabbitmq.confirmTimeoutMs', rabbit.confirmTimeoutMs]);
  if (kafka) {
    mustCover.push(['kafka.sendTimeoutMs', kafka.sendTimeoutMs]);
    mustCover.push(['kafka.consumer.stopTimeoutMs', kafka.consumer.stopTimeoutMs]);
  }
  for (const [key, ms] of mustCover) {
    if (drainTimeoutMs < ms) {
      throw new InvalidPoolOptionsError(
        'shutdown.drainTimeoutMs',
        `${drainTimeoutMs} ms is shorter than ${key} (${ms} ms), so a drain could give up on work it must wait for`,
        `raise shutdown.drainTimeoutMs to at least ${ms} or lower ${key}`,
      );
    }
  }

  const metrics =
    o['metrics'] === undefined
      ? {}
      : checkObject(o['metrics'], 'metrics', 'an object like { enabled: true, registry }');
  checkKnownKeys(metrics, 'metrics', ['enabled', 'registry']);
  const enabled = checkBoolean(
    metrics,
    'enabled',
    'metrics',
    DEFAULT_MODULE_OPTIONS.metricsEnabled,
  );
  const registry = metrics['registry'];
  if (registry !== undefined && !isRegistry(registry)) {
    throw new InvalidPoolOptionsError(
      'metrics.registry',
      'must be a prom-client Registry',
      'pass new Registry() from prom-client, or leave it out to use the global register',
    );
  }

  return {
    name,
    rabbitmq: o['rabbitmq'] as RabbitMqPoolOptions | undefined,
    kafka: o['kafka'] as KafkaPoolOptions | undefined,
    failFast,
    drainTimeoutMs,
    metrics: { enabled, registry: registry as MetricsRegistry | undefined },
    logger: resolveLogger(o['logger'], name, logFormat(o['logging'])),
  };
}

/** Validates the static `httpBackpressure` extra. */
export function assertHttpBackpressure(value: unknown): asserts value is boolean {
  if (typeof value !== 'boolean') {
    throw new InvalidPoolOptionsError(
      'httpBackpressure',
      `must be a boolean, got ${describeOptionValue(value)}`,
      'set true (default) or false',
    );
  }
}

function logFormat(value: unknown): NestMqLogFormat {
  const logging =
    value === undefined ? {} : checkObject(value, 'logging', "an object like { format: 'json' }");
  checkKnownKeys(logging, 'logging', ['format']);
  const format = logging['format'] ?? DEFAULT_MODULE_OPTIONS.logFormat;
  if (format !== 'text' && format !== 'json') {
    throw new InvalidPoolOptionsError(
      'logging.format',
      `must be 'text' or 'json', got ${typeof format === 'string' ? `'${format}'` : typeof format}`,
      "set 'text' (default: fields appended as JSON) or 'json' (one object per line for a JSON logger)",
    );
  }
  return format;
}

function resolveLogger(value: unknown, name: string, format: NestMqLogFormat): MqLogger {
  const context = `MqPool:${name}`;
  if (value === undefined) return new NestMqLogger(context, undefined, { format });
  if (isMqLogger(value)) return value;
  if (isLoggerService(value)) return new NestMqLogger(context, value, { format });
  throw new InvalidPoolOptionsError(
    'logger',
    'must be an MqLogger ({ debug, info, warn, error }) or a Nest LoggerService ({ log, warn, error })',
    "pass one of those, or leave it out to use Nest's Logger",
  );
}

function isMqLogger(v: unknown): v is MqLogger {
  const l = v as Partial<Record<keyof MqLogger, unknown>> | null;
  return (
    typeof l === 'object' &&
    l !== null &&
    ['debug', 'info', 'warn', 'error'].every((k) => typeof l[k as keyof MqLogger] === 'function')
  );
}

function isLoggerService(v: unknown): v is LoggerService {
  const l = v as Partial<Record<'log' | 'warn' | 'error', unknown>> | null;
  return (
    typeof l === 'object' &&
    l !== null &&
    typeof l.log === 'function' &&
    typeof l.warn === 'function' &&
    typeof l.error === 'function'
  );
}

// Duck-typed: an app may load its own copy of prom-client, where `instanceof` would fail.
function isRegistry(v: unknown): boolean {
  const r = v as { getSingleMetric?: unknown; registerMetric?: unknown; metrics?: unknown } | null;
  return (
    typeof r === 'object' &&
    r !== null &&
    typeof r.getSingleMetric === 'function' &&
    typeof r.registerMetric === 'function' &&
    typeof r.metrics === 'function'
  );
}

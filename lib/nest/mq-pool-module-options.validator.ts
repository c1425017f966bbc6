import type { LoggerService } from '@nestjs/common';
import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import type { MqLogger } from '../core/logger.js';
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

type Bag = Record<string, unknown>;

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
  const o = asBag(input, 'options', 'an object like { rabbitmq: { url: "amqp://localhost" } }');
  for (const key of Object.keys(o)) {
    if (STATIC_KEYS.includes(key)) {
      throw new InvalidPoolOptionsError(
        key,
        'was returned by the forRootAsync factory, but it shapes the module before the factory runs',
        `pass it to MqPoolModule.forRootAsync({ ${key}: ..., useFactory }) itself`,
      );
    }
    if (!(TOP_KEYS as readonly string[]).includes(key)) {
      throw new InvalidPoolOptionsError(
        key,
        'unknown option',
        `remove it; known options are: ${TOP_KEYS.join(', ')}`,
      );
    }
  }
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
      : asBag(o['startup'], 'startup', 'an object like { failFast: false }');
  knownKeys(startup, 'startup', ['failFast']);
  const failFast = startup['failFast'] ?? DEFAULT_MODULE_OPTIONS.failFast;
  if (typeof failFast !== 'boolean') {
    throw new InvalidPoolOptionsError(
      'startup.failFast',
      `expected a boolean, got ${typeof failFast}`,
      'set true (default) or false',
    );
  }

  const shutdown =
    o['shutdown'] === undefined
      ? {}
      : asBag(o['shutdown'], 'shutdown', 'an object like { drainTimeoutMs: 15000 }');
  knownKeys(shutdown, 'shutdown', ['drainTimeoutMs']);
  const drainTimeoutMs = integer(
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
      : asBag(o['metrics'], 'metrics', 'an object like { enabled: true, registry }');
  knownKeys(metrics, 'metrics', ['enabled', 'registry']);
  const enabled = metrics['enabled'] ?? DEFAULT_MODULE_OPTIONS.metricsEnabled;
  if (typeof enabled !== 'boolean') {
    throw new InvalidPoolOptionsError(
      'metrics.enabled',
      `expected a boolean, got ${typeof enabled}`,
      'set true or false',
    );
  }
  const registry = metrics['registry'];
  if (registry !== undefined && !isRegistry(registry)) {
    throw new InvalidPoolOptionsError(
      'metrics.registry',
      'expected a prom-client Registry',
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
      `expected a boolean, got ${typeof value}`,
      'set true (default) or false',
    );
  }
}

function logFormat(value: unknown): NestMqLogFormat {
  const logging =
    value === undefined ? {} : asBag(value, 'logging', "an object like { format: 'json' }");
  knownKeys(logging, 'logging', ['format']);
  const format = logging['format'] ?? DEFAULT_MODULE_OPTIONS.logFormat;
  if (format !== 'text' && format !== 'json') {
    throw new InvalidPoolOptionsError(
      'logging.format',
      `expected 'text' or 'json', got ${typeof format === 'string' ? `'${format}'` : typeof format}`,
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
    'expected an MqLogger ({ debug, info, warn, error }) or a Nest LoggerService ({ log, warn, error })',
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

function asBag(value: unknown, key: string, expected: string): Bag {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidPoolOptionsError(
      key,
      `expected an object, got ${value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value}`,
      `pass ${expected}`,
    );
  }
  return value as Bag;
}

function knownKeys(bag: Bag, prefix: string, allowed: readonly string[]): void {
  for (const k of Object.keys(bag)) {
    if (!allowed.includes(k)) {
      throw new InvalidPoolOptionsError(
        `${prefix}.${k}`,
        'unknown option',
        `remove it; known options of "${prefix}" are: ${allowed.join(', ')}`,
      );
    }
  }
}

function integer(
  bag: Bag,
  prop: string,
  prefix: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = bag[prop];
  if (v === undefined) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new InvalidPoolOptionsError(
      `${prefix}.${prop}`,
      `expected an integer between ${min} and ${max}, got ${typeof v === 'number' ? v : typeof v}`,
      `set an integer between ${min} and ${max} or leave it out (default ${fallback})`,
    );
  }
  return v;
}

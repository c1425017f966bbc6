import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { resolvePoolOptions } from '../../lib/core/resolve-pool-options.js';
import { validateKafkaOptions } from '../../lib/kafka/kafka-options.validator.js';
import { MqPoolModule } from '../../lib/nest/mq-pool.module.js';
import { DEFAULT_MODULE_OPTIONS } from '../../lib/nest/mq-pool-module-options.js';
import { resolveModuleOptions } from '../../lib/nest/mq-pool-module-options.validator.js';
import { validateRabbitMqOptions } from '../../lib/rabbitmq/rabbitmq-options.validator.js';

/**
 * DESIGN §3: "Defaults are documented in the README." Every default the README's option tables
 * state must be what users get: each is compared with the options the validators resolve from a
 * minimal configuration, and every option they resolve must have a row. A row whose default is
 * not a literal (required, computed, prose) must be listed in its section's `notLiteral`, so a
 * new row can never be skipped without a decision.
 */
const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

interface Row {
  keys: string[];
  /** The backticked values of the default cell, in order. */
  values: string[];
  line: string;
}

/** The rows of the `| key | default | meaning |` table under `heading`. */
function optionTable(heading: string): Row[] {
  const lines = README.split('\n');
  const start = lines.indexOf(heading);
  if (start === -1) throw new Error(`README has no heading "${heading}"`);
  const rows: Row[] = [];
  let i = start + 1;
  while (i < lines.length && !lines[i]!.startsWith('|')) i++;
  if (lines[i] !== '| key | default | meaning |')
    throw new Error(`no option table under "${heading}"`);
  for (i += 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    const [keyCell = '', defaultCell = ''] = lines[i]!.split(' | ');
    rows.push({
      keys: expandKeys(backticked(keyCell)),
      values: backticked(defaultCell),
      line: lines[i]!,
    });
  }
  return rows;
}

const backticked = (cell: string): string[] => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

/** `reconnect.initialDelayMs` / `maxDelayMs`: the second key shares the first one's parent. */
function expandKeys(keys: string[]): string[] {
  const parent = keys[0]?.includes('.') ? keys[0].slice(0, keys[0].lastIndexOf('.') + 1) : '';
  return keys.map((key, i) => (i > 0 && !key.includes('.') ? parent + key : key));
}

/** Every path to a non-object value (arrays and class instances count as values). */
function leafPaths(object: object, prefix = ''): string[] {
  return Object.entries(object).flatMap(([key, value]) =>
    typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype
      ? Object.keys(value).length === 0
        ? [prefix + key]
        : leafPaths(value as object, `${prefix}${key}.`)
      : [prefix + key],
  );
}

/** A README value as JavaScript (`'warn'`, `{ retries: 5 }`, `0.1`); `<name>` = the default pool. */
const literal = (text: string): unknown =>
  new Function(`return (${text.replaceAll('<name>', 'default')});`)() as unknown;

function at(object: unknown, path: string): unknown {
  let value = object;
  for (const part of path.split('.')) {
    if (typeof value !== 'object' || value === null || !(part in value))
      throw new Error(`resolved options have no "${path}"`);
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

interface Section {
  heading: string;
  /** What users get for `key` when they leave it out. */
  resolved(key: string): unknown;
  /** Keys whose default cell is no literal, and why. */
  notLiteral: Record<string, string>;
  /** The resolved options, to find options the table leaves out. */
  options: object;
  /** Resolved names that the README documents under their user-facing key. */
  aliases?: Record<string, string>;
}

const rabbitmq = validateRabbitMqOptions({ url: 'amqp://broker' });
const kafka = validateKafkaOptions({
  brokers: ['broker:9092'],
  // Transaction defaults only resolve once transactions are configured (the prefix is required).
  transactions: { transactionalIdPrefix: 'app' },
});
const core = resolvePoolOptions({ max: 1 });
const moduleOptions = resolveModuleOptions({ rabbitmq: { url: 'amqp://broker' } }, 'default');

const SECTIONS: Section[] = [
  {
    heading: '### Module',
    resolved: (key) => {
      switch (key) {
        case 'isGlobal':
          return MqPoolModule.forRoot({ rabbitmq: { url: 'amqp://broker' } }).global ?? false;
        case 'shutdown.drainTimeoutMs':
          return moduleOptions.drainTimeoutMs;
        case 'startup.failFast':
          return moduleOptions.failFast;
        // Static extras and the logger's format are applied where the module is defined / the
        // logger is made, from these constants.
        case 'httpBackpressure':
          return DEFAULT_MODULE_OPTIONS.httpBackpressure;
        case 'logging.format':
          return DEFAULT_MODULE_OPTIONS.logFormat;
        default:
          return at(moduleOptions, key);
      }
    },
    notLiteral: {
      rabbitmq: 'no default: omitted means no RabbitMQ pool',
      kafka: 'no default: omitted means no Kafka pool',
      'metrics.registry': "prom-client's default registry",
      logger: "Nest's Logger with a context",
    },
    options: moduleOptions,
    aliases: { drainTimeoutMs: 'shutdown.drainTimeoutMs', failFast: 'startup.failFast' },
  },
  {
    heading: '### `rabbitmq`',
    resolved: (key) => at(rabbitmq, key),
    notLiteral: {
      url: 'required',
      serializer: 'the JSON_SERIALIZER object',
      topology: 'none: nothing declared',
    },
    options: rabbitmq,
    aliases: { urls: 'url' },
  },
  {
    heading: '### `kafka`',
    resolved: (key) => at(kafka, key),
    notLiteral: {
      brokers: 'required',
      ssl: 'passed through, unset by default',
      sasl: 'passed through, unset by default',
      'transactions.transactionalIdPrefix': 'required for withTransaction',
      serializer: 'the JSON_SERIALIZER object',
    },
    options: kafka,
  },
  {
    heading: '### Core `Pool` (`PoolOptions`)',
    resolved: (key) => at(core, key),
    notLiteral: {
      max: 'required',
      clock: 'the system clock',
      logger: 'a no-op logger',
      metrics: 'a no-op recorder',
      random: 'Math.random',
    },
    options: core,
  },
];

describe('README option tables', () => {
  describe.each(SECTIONS)('$heading', (section) => {
    const rows = optionTable(section.heading);

    it('has rows', () => expect(rows.length).toBeGreaterThan(3));

    it.each(rows.map((row) => [row.keys.join(' / '), row] as const))(
      '%s: the documented default is what users get',
      (_, row) => {
        if (row.keys.every((key) => key in section.notLiteral)) return;
        expect(
          row.values.length,
          `one backticked default per key expected, or list the keys in notLiteral:\n${row.line}`,
        ).toBe(row.keys.length);
        row.keys.forEach((key, i) => {
          expect(section.resolved(key), `${key} in\n${row.line}`).toEqual(literal(row.values[i]!));
        });
      },
    );

    it('documents every option the validator resolves', () => {
      const documented = rows.flatMap((row) => row.keys);
      const undocumented = leafPaths(section.options)
        .map((path) => section.aliases?.[path] ?? path)
        .filter((path) => !documented.some((key) => path === key || path.startsWith(`${key}.`)));
      expect(undocumented).toEqual([]);
    });

    it('lists no key as not literal that the table does not have', () => {
      const documented = new Set(rows.flatMap((row) => row.keys));
      expect(Object.keys(section.notLiteral).filter((key) => !documented.has(key))).toEqual([]);
    });
  });
});

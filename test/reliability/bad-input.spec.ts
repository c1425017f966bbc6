import { Test } from '@nestjs/testing';
import type { ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  InvalidPoolOptionsError,
  KafkaPool,
  LeaseReleasedError,
  MqPoolError,
  MqPoolModule,
  Pool,
  PoolClosedError,
  PublishFailedError,
  RabbitMqPool,
  type MqLogger,
  type ResourceFactory,
} from '../../lib/index.js';
import { amqpUrl, kafkaBrokers } from '../support/broker-env.js';
import {
  useDisposableRabbitMq,
  isDisposableRabbitMqSupported,
} from '../support/disposable-rabbitmq.js';
import {
  adminConnection,
  eventually,
  queueDepth,
  sleep,
  uniqueName,
} from '../integration/rabbitmq/support/rabbitmq-admin.js';
import { recordFigure } from './support/figures.js';

/**
 * Scenario 9: bad input of every kind gets a clear typed error, and nothing is lost or crashes.
 * Option tables cover every validated key of RabbitMqPool, KafkaPool, the core Pool, Kafka
 * `consume()` and MqPoolModule; the rest runs against the real brokers (a disposable RabbitMQ node
 * with a 1 MiB `max_message_size` for the oversize case).
 */

/** A password that must never show up in errors, logs, health or stats. */
const SECRET = 'Sup3rS3cret-pw-9f2c';
let casesRun = 0;

// ------------------------------------------------------------------------------ option tables

interface OptionCase {
  readonly what: string;
  readonly options: unknown;
  /** The key the error must name. */
  readonly key: string;
}

const INT_BAD_VALUES: ReadonlyArray<readonly [string, unknown]> = [
  ['negative', -1],
  ['NaN', Number.NaN],
  ['a string', '5'],
  ['a fraction', 1.5],
  ['null', null],
];

/** Numeric keys as [dotted path, minimum]; zero is tested too where the minimum is 1. */
function numericCases(
  base: Record<string, unknown>,
  prefix: string,
  keys: ReadonlyArray<readonly [string, number]>,
  extra: readonly (readonly [string, unknown])[] = [],
): OptionCase[] {
  const out: OptionCase[] = [];
  for (const [path, min] of keys) {
    const bad = [...INT_BAD_VALUES, ...extra, ...(min >= 1 ? [['zero', 0] as const] : [])];
    for (const [label, value] of bad) {
      out.push({
        what: `${path} ${label}`,
        options: withPath(base, path, value),
        key: `${prefix}${path}`,
      });
    }
  }
  return out;
}

/** A deep copy of `base` with `value` at the dotted `path`. */
function withPath(base: Record<string, unknown>, path: string, value: unknown): unknown {
  const copy = deepCopy(base);
  const parts = path.split('.');
  let at: Record<string, unknown> = copy;
  for (const p of parts.slice(0, -1)) {
    if (typeof at[p] !== 'object' || at[p] === null) at[p] = {};
    at = at[p] as Record<string, unknown>;
  }
  at[parts.at(-1)!] = value;
  return copy;
}

/** Copies plain objects and arrays; functions and other values are shared. */
function deepCopy<T>(value: T): T {
  if (Array.isArray(value)) return value.map((v: unknown) => deepCopy(v)) as T;
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, deepCopy(v)])) as T;
  }
  return value;
}

const RABBIT_BASE = { url: `amqp://guest:${SECRET}@127.0.0.1:5672` };
const rabbitCases: OptionCase[] = [
  ...numericCases(RABBIT_BASE, 'rabbitmq.', [
    ['connections', 1],
    ['consumerConnections', 0],
    ['channelsPerConnection', 1],
    ['minChannels', 0],
    ['acquireTimeoutMs', 1],
    ['maxWaiting', 0],
    ['confirmTimeoutMs', 1],
    ['heartbeatSeconds', 0],
    ['leakDetectionMs', 0],
    ['idleTimeoutMs', 0],
    ['maxLifetimeMs', 0],
    ['publishChannels', 1],
    ['maxInFlightPerChannel', 1],
    ['connectTimeoutMs', 1],
    ['reconnect.initialDelayMs', 1],
    ['reconnect.maxDelayMs', 1],
  ]),
  { what: 'unknown key', options: { ...RABBIT_BASE, channelMax: 4 }, key: 'rabbitmq.channelMax' },
  {
    what: 'unknown nested key',
    options: { ...RABBIT_BASE, reconnect: { jitter: true } },
    key: 'rabbitmq.reconnect.jitter',
  },
  { what: 'options not an object', options: 'amqp://localhost', key: 'rabbitmq' },
  {
    what: 'reconnect a number',
    options: { ...RABBIT_BASE, reconnect: 5 },
    key: 'rabbitmq.reconnect',
  },
  {
    what: 'socketOptions a string',
    options: { ...RABBIT_BASE, socketOptions: 'tls' },
    key: 'rabbitmq.socketOptions',
  },
  {
    what: 'connectionName empty',
    options: { ...RABBIT_BASE, connectionName: '' },
    key: 'rabbitmq.connectionName',
  },
  {
    what: 'connectionName a number',
    options: { ...RABBIT_BASE, connectionName: 7 },
    key: 'rabbitmq.connectionName',
  },
  {
    what: 'contradiction: publishChannels > connections × channelsPerConnection',
    options: { ...RABBIT_BASE, connections: 1, channelsPerConnection: 2, publishChannels: 3 },
    key: 'rabbitmq.publishChannels',
  },
  {
    what: 'contradiction: minChannels > pool max',
    options: { ...RABBIT_BASE, channelsPerConnection: 4, minChannels: 5 },
    key: 'rabbitmq.minChannels',
  },
  {
    what: 'contradiction: reconnect.maxDelayMs < initialDelayMs',
    options: { ...RABBIT_BASE, reconnect: { initialDelayMs: 500, maxDelayMs: 100 } },
    key: 'rabbitmq.reconnect.maxDelayMs',
  },
  // Malformed URLs: the raw value may hold the password, so it must not be echoed.
  { what: 'url missing', options: {}, key: 'rabbitmq.url' },
  { what: 'url a number', options: { url: 5672 }, key: 'rabbitmq.url' },
  { what: 'url empty array', options: { url: [] }, key: 'rabbitmq.url' },
  { what: 'url unparsable', options: { url: `guest:${SECRET}@127.0.0.1` }, key: 'rabbitmq.url' },
  {
    what: 'url wrong protocol',
    options: { url: `http://guest:${SECRET}@127.0.0.1` },
    key: 'rabbitmq.url',
  },
  { what: 'url without host', options: { url: 'amqp://' }, key: 'rabbitmq.url' },
  {
    what: 'url without "//" (credentials end up in the path)',
    options: { url: `amqp:guest:${SECRET}@127.0.0.1` },
    key: 'rabbitmq.url',
  },
  {
    what: 'url list with a bad entry',
    options: { url: ['amqp://127.0.0.1', `kafka://guest:${SECRET}@h:1`] },
    key: 'rabbitmq.url[1]',
  },
];

const KAFKA_BASE = { brokers: ['127.0.0.1:9092'] };
const TX = { transactionalIdPrefix: 'rel-bad' };
const kafkaCases: OptionCase[] = [
  ...numericCases(KAFKA_BASE, 'kafka.', [
    ['connectTimeoutMs', 1],
    ['startTimeoutMs', 1],
    ['requestTimeoutMs', 1],
    ['authenticationTimeoutMs', 1],
    ['sendTimeoutMs', 1],
    ['retry.retries', 0],
    ['retry.initialRetryTimeMs', 1],
    ['retry.maxRetryTimeMs', 1],
    ['reconnect.initialDelayMs', 1],
    ['reconnect.maxDelayMs', 1],
    ['consumer.joinTimeoutMs', 1],
    ['consumer.stopTimeoutMs', 1],
    ['consumer.sessionTimeoutMs', 1],
    ['consumer.rebalanceTimeoutMs', 1],
    ['consumer.heartbeatIntervalMs', 1],
    ['consumer.restart.maxRestarts', 0],
    ['consumer.restart.windowMs', 1],
  ]),
  ...numericCases({ ...KAFKA_BASE, transactions: TX }, 'kafka.', [
    ['transactions.maxProducers', 1],
    ['transactions.minProducers', 0],
    ['transactions.acquireTimeoutMs', 1],
    ['transactions.maxWaiting', 0],
    ['transactions.transactionTimeoutMs', 1],
    ['transactions.idleTimeoutMs', 0],
  ]),
  { what: 'unknown key', options: { ...KAFKA_BASE, acks: -1 }, key: 'kafka.acks' },
  {
    what: 'unknown nested key',
    options: { ...KAFKA_BASE, retry: { factor: 2 } },
    key: 'kafka.retry.factor',
  },
  { what: 'options not an object', options: ['127.0.0.1:9092'], key: 'kafka' },
  { what: 'brokers missing', options: {}, key: 'kafka.brokers' },
  { what: 'brokers empty', options: { brokers: [] }, key: 'kafka.brokers' },
  { what: 'brokers a string', options: { brokers: '127.0.0.1:9092' }, key: 'kafka.brokers' },
  { what: 'broker without port', options: { brokers: ['localhost'] }, key: 'kafka.brokers[0]' },
  { what: 'broker port out of range', options: { brokers: ['h:99999'] }, key: 'kafka.brokers[0]' },
  {
    what: 'broker given as URL with credentials',
    options: { brokers: ['127.0.0.1:9092', `kafka://u:${SECRET}@h:9092`] },
    key: 'kafka.brokers[1]',
  },
  { what: 'clientId empty', options: { ...KAFKA_BASE, clientId: ' ' }, key: 'kafka.clientId' },
  {
    what: 'idempotent a string',
    options: { ...KAFKA_BASE, idempotent: 'yes' },
    key: 'kafka.idempotent',
  },
  {
    what: 'allowAutoTopicCreation a number',
    options: { ...KAFKA_BASE, allowAutoTopicCreation: 1 },
    key: 'kafka.allowAutoTopicCreation',
  },
  { what: 'logLevel unknown', options: { ...KAFKA_BASE, logLevel: 'loud' }, key: 'kafka.logLevel' },
  { what: 'ssl a string', options: { ...KAFKA_BASE, ssl: 'on' }, key: 'kafka.ssl' },
  {
    what: 'sasl mechanism unknown',
    options: { ...KAFKA_BASE, sasl: { mechanism: 'kerberos' } },
    key: 'kafka.sasl.mechanism',
  },
  {
    what: 'sasl password missing',
    options: { ...KAFKA_BASE, sasl: { mechanism: 'plain', username: 'u' } },
    key: 'kafka.sasl.password',
  },
  {
    what: 'transactions without transactionalIdPrefix',
    options: { ...KAFKA_BASE, transactions: { maxProducers: 2 } },
    key: 'kafka.transactions.transactionalIdPrefix',
  },
  {
    what: 'contradiction: idempotent with 0 retries',
    options: { ...KAFKA_BASE, idempotent: true, retry: { retries: 0 } },
    key: 'kafka.retry.retries',
  },
  {
    what: 'contradiction: retry initial > max',
    options: { ...KAFKA_BASE, retry: { initialRetryTimeMs: 900, maxRetryTimeMs: 100 } },
    key: 'kafka.retry.initialRetryTimeMs',
  },
  {
    what: 'contradiction: reconnect initial > max',
    options: { ...KAFKA_BASE, reconnect: { initialDelayMs: 900, maxDelayMs: 100 } },
    key: 'kafka.reconnect.initialDelayMs',
  },
  {
    what: 'contradiction: minProducers > maxProducers',
    options: { ...KAFKA_BASE, transactions: { ...TX, minProducers: 3, maxProducers: 2 } },
    key: 'kafka.transactions.minProducers',
  },
  {
    what: 'contradiction: heartbeat ≥ session timeout',
    options: { ...KAFKA_BASE, consumer: { sessionTimeoutMs: 3000, heartbeatIntervalMs: 3000 } },
    key: 'kafka.consumer.heartbeatIntervalMs',
  },
];

const noop = (): void => undefined;

/** Records one case's figure (called only after its assertions passed). */
function figure(title: string, expectation: string, result: string): void {
  recordFigure({ scenario: 9, title, expectation, result });
}
const CONSUME_BASE = { groupId: 'rel-bad-g', topics: ['rel-bad-t'], eachMessage: async () => {} };
const consumeCases: OptionCase[] = [
  ...numericCases(CONSUME_BASE, 'kafka.consume.', [
    ['partitionsConsumedConcurrently', 1],
    ['sessionTimeoutMs', 1],
    ['rebalanceTimeoutMs', 1],
    ['joinTimeoutMs', 1],
    ['stopTimeoutMs', 1],
  ]),
  {
    what: 'unknown key',
    options: { ...CONSUME_BASE, fromStart: true },
    key: 'kafka.consume.fromStart',
  },
  {
    what: 'groupId missing',
    options: { topics: ['t'], eachMessage: noop },
    key: 'kafka.consume.groupId',
  },
  { what: 'topics empty', options: { ...CONSUME_BASE, topics: [] }, key: 'kafka.consume.topics' },
  {
    what: 'topics with a number',
    options: { ...CONSUME_BASE, topics: [5] },
    key: 'kafka.consume.topics',
  },
  {
    what: 'eachMessage not a function',
    options: { ...CONSUME_BASE, eachMessage: 'x' },
    key: 'kafka.consume.eachMessage',
  },
  {
    what: 'contradiction: eachMessage and eachBatch',
    options: { ...CONSUME_BASE, eachBatch: async () => {} },
    key: 'kafka.consume.eachMessage',
  },
  {
    what: 'contradiction: heartbeat ≥ session timeout',
    options: { ...CONSUME_BASE, sessionTimeoutMs: 3000, heartbeatIntervalMs: 4000 },
    key: 'kafka.consume.heartbeatIntervalMs',
  },
];

const POOL_BASE = { max: 4 };
const poolCases: OptionCase[] = [
  ...numericCases(
    POOL_BASE,
    '',
    [
      ['max', 1],
      ['min', 0],
      ['maxWaiting', 0],
      ['failFastAfterCreateFailures', 0],
    ],
    [],
  ),
  ...numericCases(
    POOL_BASE,
    '',
    [
      ['acquireTimeoutMs', 1],
      ['idleTimeoutMs', 0],
      ['maxLifetimeMs', 0],
      ['validateAfterIdleMs', 0],
      ['leakDetectionMs', 0],
      ['drainTimeoutMs', 0],
      ['createBackoff.initialDelayMs', 1],
      ['createBackoff.maxDelayMs', 1],
    ],
    [
      ['Infinity', Number.POSITIVE_INFINITY],
      ['beyond the longest timer', 2 ** 31],
    ],
  ).filter(
    (c) =>
      !c.what.endsWith('a fraction') && // durations may be fractional ms
      !(c.what.startsWith('createBackoff.') && c.what.endsWith(' null')), // null = default there
  ),
  { what: 'options not an object', options: 4, key: 'options' },
  { what: 'max missing', options: {}, key: 'max' },
  { what: 'unknown key', options: { ...POOL_BASE, maxSize: 8 }, key: 'maxSize' },
  {
    what: 'unknown nested key',
    options: { ...POOL_BASE, createBackoff: { factor: 2 } },
    key: 'createBackoff.factor',
  },
  { what: 'lifetimeJitter 1', options: { ...POOL_BASE, lifetimeJitter: 1 }, key: 'lifetimeJitter' },
  {
    what: 'lifetimeJitter negative',
    options: { ...POOL_BASE, lifetimeJitter: -0.1 },
    key: 'lifetimeJitter',
  },
  {
    what: 'lifetimeJitter NaN',
    options: { ...POOL_BASE, lifetimeJitter: Number.NaN },
    key: 'lifetimeJitter',
  },
  {
    what: 'captureLeakSite a string',
    options: { ...POOL_BASE, captureLeakSite: 'yes' },
    key: 'captureLeakSite',
  },
  {
    what: 'createBackoff a number',
    options: { ...POOL_BASE, createBackoff: 100 },
    key: 'createBackoff',
  },
  { what: 'name empty', options: { ...POOL_BASE, name: '' }, key: 'name' },
  { what: 'clock without methods', options: { ...POOL_BASE, clock: {} }, key: 'clock' },
  { what: 'logger a function', options: { ...POOL_BASE, logger: noop }, key: 'logger' },
  {
    what: 'metrics incomplete',
    options: { ...POOL_BASE, metrics: { acquired: noop } },
    key: 'metrics',
  },
  { what: 'random a number', options: { ...POOL_BASE, random: 0.5 }, key: 'random' },
  { what: 'contradiction: min > max', options: { max: 2, min: 3 }, key: 'min' },
  {
    what: 'contradiction: createBackoff max < initial',
    options: { ...POOL_BASE, createBackoff: { initialDelayMs: 500, maxDelayMs: 100 } },
    key: 'createBackoff.maxDelayMs',
  },
];

const MODULE_RABBIT = { url: `amqp://guest:${SECRET}@127.0.0.1:5672` };
const moduleCases: OptionCase[] = [
  { what: 'unknown key', options: { rabbitmq: MODULE_RABBIT, rabbit: {} }, key: 'rabbit' },
  {
    what: 'no broker configured',
    options: { shutdown: { drainTimeoutMs: 1000 } },
    key: 'rabbitmq',
  },
  {
    what: 'static key from the factory',
    options: { rabbitmq: MODULE_RABBIT, httpBackpressure: false },
    key: 'httpBackpressure',
  },
  {
    what: 'isGlobal from the factory',
    options: { rabbitmq: MODULE_RABBIT, isGlobal: true },
    key: 'isGlobal',
  },
  { what: 'startup a number', options: { rabbitmq: MODULE_RABBIT, startup: 1 }, key: 'startup' },
  {
    what: 'startup.failFast a string',
    options: { rabbitmq: MODULE_RABBIT, startup: { failFast: 'no' } },
    key: 'startup.failFast',
  },
  {
    what: 'startup unknown key',
    options: { rabbitmq: MODULE_RABBIT, startup: { retries: 3 } },
    key: 'startup.retries',
  },
  ...(
    [
      ['negative', -1],
      ['zero', 0],
      ['NaN', Number.NaN],
      ['a string', '15000'],
      ['above 600000', 600_001],
    ] as const
  ).map(([label, value]) => ({
    what: `shutdown.drainTimeoutMs ${label}`,
    options: { rabbitmq: MODULE_RABBIT, shutdown: { drainTimeoutMs: value } },
    key: 'shutdown.drainTimeoutMs',
  })),
  {
    what: 'contradiction: drain shorter than rabbitmq.confirmTimeoutMs',
    options: {
      rabbitmq: { ...MODULE_RABBIT, confirmTimeoutMs: 20_000 },
      shutdown: { drainTimeoutMs: 10_000 },
    },
    key: 'shutdown.drainTimeoutMs',
  },
  {
    what: 'contradiction: drain shorter than kafka.sendTimeoutMs',
    options: {
      kafka: { brokers: kafkaBrokers(), sendTimeoutMs: 30_000 },
      shutdown: { drainTimeoutMs: 15_000 },
    },
    key: 'shutdown.drainTimeoutMs',
  },
  {
    what: 'metrics.enabled a string',
    options: { rabbitmq: MODULE_RABBIT, metrics: { enabled: 'true' } },
    key: 'metrics.enabled',
  },
  {
    what: 'metrics.registry not a Registry',
    options: { rabbitmq: MODULE_RABBIT, metrics: { registry: {} } },
    key: 'metrics.registry',
  },
  {
    what: 'logger not a logger',
    options: { rabbitmq: MODULE_RABBIT, logger: { log: noop } },
    key: 'logger',
  },
  {
    what: 'rabbitmq option invalid',
    options: { rabbitmq: { ...MODULE_RABBIT, connections: 0 } },
    key: 'rabbitmq.connections',
  },
  {
    what: 'rabbitmq url malformed',
    options: { rabbitmq: { url: `amqp//guest:${SECRET}@x` } },
    key: 'rabbitmq.url',
  },
  {
    what: 'kafka option invalid',
    options: { kafka: { brokers: ['nope'] } },
    key: 'kafka.brokers[0]',
  },
];

/** Runs `fn` and returns what it threw or rejected with (undefined when it succeeded). */
async function failure(fn: () => unknown): Promise<unknown> {
  try {
    await fn();
    return undefined;
  } catch (error) {
    return error;
  }
}

function expectInvalid(error: unknown, key: string): void {
  expect(error, `expected InvalidPoolOptionsError for ${key}`).toBeInstanceOf(
    InvalidPoolOptionsError,
  );
  expect((error as InvalidPoolOptionsError).key).toBe(key);
  expect((error as Error).message).toContain(`"${key}"`);
  expect((error as Error).message).toMatch(/Fix: /);
  expect(everythingSaid(error)).not.toContain(SECRET);
  casesRun++;
}

/** Message, stack and `cause` chain of an error, as one string: what a log would show. */
function everythingSaid(error: unknown): string {
  const parts: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current !== undefined && depth < 10; depth++) {
    if (current instanceof Error) {
      parts.push(current.message, current.stack ?? '', JSON.stringify(current));
      current = current.cause;
    } else {
      parts.push(String(current));
      current = undefined;
    }
  }
  return parts.join('\n');
}

const trivialFactory: ResourceFactory<object> = {
  create: () => Promise.resolve({}),
  destroy: () => Promise.resolve(),
};

// ------------------------------------------------------------------------------------ tests

describe('reliability #9: bad input', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeAll(() => {
    process.on('unhandledRejection', onUnhandled);
  });

  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  describe('invalid options → InvalidPoolOptionsError naming the key', () => {
    it.each(rabbitCases)('RabbitMqPool: $what → $key', async ({ options, key }) => {
      expectInvalid(await failure(() => new RabbitMqPool(options as never)), key);
    });

    it.each(kafkaCases)('KafkaPool: $what → $key', async ({ options, key }) => {
      expectInvalid(await failure(() => new KafkaPool(options as never)), key);
    });

    it.each(poolCases)('Pool: $what → $key', async ({ options, key }) => {
      expectInvalid(await failure(() => new Pool(trivialFactory, options as never)), key);
    });

    it('Pool: a factory without create() → factory', async () => {
      expectInvalid(await failure(() => new Pool({} as never, { max: 1 })), 'factory');
    });

    it.each(moduleCases)('MqPoolModule: $what → $key', async ({ options, key }) => {
      const error = await failure(() =>
        Test.createTestingModule({
          imports: [
            MqPoolModule.forRootAsync({
              name: uniqueName('bad').replace('-', '_'),
              useFactory: () => options as never,
            }),
          ],
        }).compile(),
      );
      expectInvalid(error, key);
    });

    it.each([
      ['empty name', { name: '' }, 'name'],
      ['name with a space', { name: 'my pool' }, 'name'],
      ['httpBackpressure a string', { httpBackpressure: 'yes' }, 'httpBackpressure'],
    ] as const)('MqPoolModule.forRoot static: %s → %s', async (_what, extras, key) => {
      expectInvalid(
        await failure(() => MqPoolModule.forRoot({ rabbitmq: MODULE_RABBIT, ...extras } as never)),
        key,
      );
    });

    it('every table row ran', () => {
      const total =
        rabbitCases.length + kafkaCases.length + poolCases.length + 1 + moduleCases.length + 3;
      expect(casesRun).toBe(total);
      figure(
        'invalid options',
        'InvalidPoolOptionsError naming the dotted key and the fix; a URL password never echoed',
        `${total}/${total} cases (RabbitMqPool ${rabbitCases.length}, KafkaPool ${kafkaCases.length}, Pool ${poolCases.length + 1}, MqPoolModule ${moduleCases.length + 3})`,
      );
    });
  });

  describe('Kafka consume() options on a real pool', () => {
    let pool: KafkaPool;
    beforeAll(async () => {
      pool = new KafkaPool({ brokers: kafkaBrokers(), clientId: uniqueName('rel-bad') });
      await pool.start();
    }, 60_000);
    afterAll(async () => {
      await pool?.close();
    });

    it.each(consumeCases)('consume: $what → $key', async ({ options, key }) => {
      expectInvalid(await failure(() => pool.consume(options as never)), key);
    });

    it('the pool still works after all of them', async () => {
      const topic = uniqueName('rel-bad-ok');
      const pool2 = new KafkaPool({
        brokers: kafkaBrokers(),
        clientId: uniqueName('rel-bad2'),
        allowAutoTopicCreation: true,
      });
      try {
        await pool2.start();
        const meta = await pool2.send({ topic, messages: [{ value: 'ok' }] });
        expect(meta.length).toBeGreaterThan(0);
      } finally {
        await pool2.close();
      }
      figure(
        'invalid Kafka consume() options (real pool)',
        'InvalidPoolOptionsError naming the key; the pool keeps working',
        `${consumeCases.length}/${consumeCases.length} cases`,
      );
    });
  });

  describe('RabbitMQ against the shared broker', () => {
    let admin: ChannelModel;
    beforeAll(async () => {
      admin = await adminConnection(amqpUrl());
    });
    afterAll(async () => {
      await admin?.close().catch(() => undefined);
    });

    it('wrong credentials: typed error with the broker refusal as cause, backoff (no hot loop), password redacted everywhere', async () => {
      const url = new URL(amqpUrl());
      url.password = SECRET;
      const logged: string[] = [];
      const pool = new RabbitMqPool(
        { url: url.toString(), connectTimeoutMs: 2_000, acquireTimeoutMs: 1_000 },
        { name: 'bad-credentials', logger: capture(logged) },
      );
      try {
        const startError = await failure(() => pool.start());
        expect(startError).toBeInstanceOf(MqPoolError);
        expect(everythingSaid(startError)).toMatch(/ACCESS[_-]REFUSED/);
        const publishError = await failure(() => pool.sendToQueue('nowhere', 'x'));
        expect(publishError).toBeInstanceOf(MqPoolError);
        const acquireError = await failure(() => pool.acquire({ timeoutMs: 500 }));
        expect(acquireError).toBeInstanceOf(MqPoolError);

        const windowMs = 3_000;
        const before = pool.stats().connectAttempts;
        await sleep(windowMs);
        const attempts = pool.stats().connectAttempts - before;
        // Default backoff (full jitter 100 ms → 1 s): ~6–8 per connection slot in 3 s; a hot loop makes hundreds.
        expect(attempts).toBeGreaterThanOrEqual(1);
        expect(attempts).toBeLessThanOrEqual(40);

        const everywhere = [
          everythingSaid(startError),
          everythingSaid(publishError),
          everythingSaid(acquireError),
          logged.join('\n'),
          JSON.stringify(pool.health()),
          JSON.stringify(pool.stats()),
        ].join('\n');
        expect(logged.length).toBeGreaterThan(0);
        expect(everywhere).not.toContain(SECRET);
        expect(pool.health().healthy).toBe(false);
        casesRun++;
        figure(
          'wrong credentials',
          'typed error (cause ACCESS_REFUSED); ≤ 40 connect attempts in 3 s; password in no error, log, health() or stats()',
          `${(startError as MqPoolError).code}; ${attempts} connect attempts in ${windowMs / 1000} s; password in 0 of ${logged.length} log lines`,
        );
      } finally {
        await pool.close();
      }
    });

    it('unknown exchange and unknown queue: only their callers fail, concurrent good publishes all succeed', async () => {
      const q = uniqueName('rel-bad-good');
      const setup = await admin.createChannel();
      await setup.assertQueue(q, { durable: false });
      const pool = new RabbitMqPool({ url: amqpUrl(), connectionName: uniqueName('rel-bad-404') });
      try {
        await pool.start();
        // Interleaved: bad publishes sit between good ones on the same pipelined channel.
        const good: Promise<void>[] = [];
        const badExchange: Promise<void>[] = [];
        for (let i = 0; i < 200; i++) {
          good.push(pool.sendToQueue(q, `good-${i}`));
          if (i % 40 === 20) {
            badExchange.push(pool.publish(uniqueName('rel-no-such-exchange'), 'rk', `bad-${i}`));
          }
        }
        const badQueue = pool.withChannel((ch) => ch.checkQueue(uniqueName('rel-no-such-queue')));
        const badConsume = pool.consume(uniqueName('rel-no-such-queue'), noop, {
          timeoutMs: 3_000,
        });
        const [goodResults, badResults, queueResult, consumeResult] = await Promise.all([
          Promise.allSettled(good),
          Promise.allSettled(badExchange),
          badQueue.then(
            () => undefined,
            (e: unknown) => e,
          ),
          badConsume.then(
            async (h) => {
              await h.cancel();
              return undefined;
            },
            (e: unknown) => e,
          ),
        ]);
        expect(goodResults.filter((r) => r.status === 'rejected')).toEqual([]);
        for (const r of badResults) {
          expect(r.status).toBe('rejected');
          const reason = (r as PromiseRejectedResult).reason as PublishFailedError;
          expect(reason).toBeInstanceOf(PublishFailedError);
          expect(reason.replyCode).toBe(404);
        }
        expect(queueResult).toBeInstanceOf(Error);
        expect((queueResult as Error).message).toMatch(/NOT_FOUND/);
        expect(consumeResult).toBeInstanceOf(Error);
        expect(everythingSaid(consumeResult)).toMatch(/NOT_FOUND|no queue/);
        // At least once: every confirmed good message is in the queue (an innocent publish retried after
        // the broker closed its channel may be there twice, under the same messageId).
        const bodies = await drainBodies(admin, q);
        expect(new Set(bodies).size).toBe(200);
        const duplicates = bodies.length - 200;
        // And the pool keeps serving.
        await pool.sendToQueue(q, 'after');
        await pool.withChannel((ch) => ch.checkQueue(q));
        casesRun += 4;
        figure(
          'unknown exchange or queue',
          'only the bad callers fail (404, typed); concurrent good publishes all confirmed',
          `${badExchange.length}× PublishFailedError 404, checkQueue and consume() → 404; 200/200 interleaved good publishes confirmed and queued (${duplicates} duplicates)`,
        );
      } finally {
        await setup.deleteQueue(q).catch(() => undefined);
        await setup.close().catch(() => undefined);
        await pool.close();
      }
    });

    it('unserialisable payloads (BigInt, circular) reject at the call with a TypeError; nothing is sent, the pool keeps working', async () => {
      const q = uniqueName('rel-bad-json');
      const setup = await admin.createChannel();
      await setup.assertQueue(q, { durable: false });
      const pool = new RabbitMqPool({ url: amqpUrl(), connectionName: uniqueName('rel-bad-json') });
      try {
        await pool.start();
        const circular: Record<string, unknown> = { a: 1 };
        circular.self = circular;
        const payloads: unknown[] = [{ n: 10n }, circular, 10n];
        for (const payload of payloads) {
          // Rejected (never thrown synchronously), so a caller's .catch() sees it.
          const promise = pool.sendToQueue(q, payload as object);
          expect(promise).toBeInstanceOf(Promise);
          const error = await promise.then(
            () => undefined,
            (e: unknown) => e,
          );
          expect(error).toBeInstanceOf(TypeError);
          expect((error as Error).message).toMatch(/BigInt|circular|JSON/i);
          casesRun++;
        }
        await pool.sendToQueue(q, { ok: true });
        expect(await eventually(async () => (await queueDepth(admin, q)) === 1, 5_000)).toBe(true);
        figure(
          'unserialisable payload',
          'rejected at the call with a clear TypeError; nothing sent',
          'BigInt, nested BigInt, circular → TypeError; 0 sent; the pool keeps publishing',
        );
      } finally {
        await setup.deleteQueue(q).catch(() => undefined);
        await setup.close().catch(() => undefined);
        await pool.close();
      }
    });

    it('handler throwing non-Error values (string, undefined, object): nacked per policy, consumer keeps running, failure reported', async () => {
      const q = uniqueName('rel-bad-handler');
      const dlq = `${q}.dlq`;
      const setup = await admin.createChannel();
      await setup.assertQueue(dlq, { durable: false });
      await setup.assertQueue(q, {
        durable: false,
        arguments: { 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': dlq },
      });
      const logged: string[] = [];
      const pool = new RabbitMqPool(
        { url: amqpUrl(), connectionName: uniqueName('rel-bad-handler') },
        { name: 'bad-handler', logger: capture(logged) },
      );
      const thrown: Record<string, unknown> = {
        string: 'plain string',
        undefined: undefined,
        object: { reason: 'not an Error' },
      };
      const seen: string[] = [];
      const policySaw: unknown[] = [];
      try {
        const handle = await pool.consume(
          q,
          (msg) => {
            const kind = msg.content.toString();
            seen.push(`${kind}${msg.fields.redelivered ? '*' : ''}`);
            if (kind in thrown) throw thrown[kind];
          },
          {
            // The default 'once' policy, wrapped to see what it is given.
            requeueOnError: (error, msg) => {
              policySaw.push(error);
              return !msg.fields.redelivered;
            },
          },
        );
        for (const kind of [...Object.keys(thrown), 'ok']) {
          await pool.sendToQueue(q, kind, { messageId: `m-${kind}` });
        }
        // Each bad message: delivered, requeued once, redelivered, rejected → dead-lettered.
        expect(await eventually(async () => (await queueDepth(admin, dlq)) === 3, 10_000)).toBe(
          true,
        );
        expect(seen.filter((s) => s === 'ok')).toHaveLength(1);
        for (const kind of Object.keys(thrown)) {
          expect(seen).toContain(kind);
          expect(seen).toContain(`${kind}*`);
        }
        expect(policySaw).toHaveLength(6);
        expect(policySaw).toContain('plain string');
        expect(policySaw).toContain(undefined);
        expect(handle.active).toBe(true);
        // Still consuming after the failures.
        await pool.sendToQueue(q, 'ok', { messageId: 'm-ok-2' });
        expect(await eventually(() => seen.filter((s) => s === 'ok').length === 2, 5_000)).toBe(
          true,
        );
        expect(await queueDepth(admin, q)).toBe(0);
        const failures = logged.filter((l) => l.includes('consumer handler failed'));
        expect(failures).toHaveLength(6);
        for (const kind of Object.keys(thrown)) {
          expect(failures.some((l) => l.includes(`m-${kind}`))).toBe(true);
        }
        expect(unhandled).toEqual([]);
        await handle.cancel();
        casesRun += 3;
        figure(
          'handler throwing a non-Error value',
          'nacked per policy; consumer keeps running; failure reported',
          'string/undefined/object → requeued once then dead-lettered (3/3); 6 failures logged with messageId; consumer active',
        );
      } finally {
        await setup.deleteQueue(q).catch(() => undefined);
        await setup.deleteQueue(dlq).catch(() => undefined);
        await setup.close().catch(() => undefined);
        await pool.close();
      }
    });

    it('release() twice is idempotent and use after release throws LeaseReleasedError; use after close throws PoolClosedError', async () => {
      const pool = new RabbitMqPool({
        url: amqpUrl(),
        connectionName: uniqueName('rel-bad-lease'),
        channelsPerConnection: 2,
      });
      try {
        await pool.start();
        const lease = await pool.acquire();
        lease.release();
        expect(() => lease.release()).not.toThrow();
        await expect(lease[Symbol.asyncDispose]()).resolves.toBeUndefined();
        expect(() => lease.channel).toThrow(LeaseReleasedError);
        expect(pool.stats().channels.leased).toBe(0);
        // The double release did not put the channel back twice: two holders get two channels.
        const a = await pool.acquire();
        const b = await pool.acquire();
        expect(a.channel).not.toBe(b.channel);
        expect(pool.stats().channels.total).toBeLessThanOrEqual(2);
        a.release();
        b.release();

        // Core pool too: double release, destroy after release, resource after release.
        const core = new Pool(trivialFactory, { max: 1 });
        const l = await core.acquire();
        l.release();
        expect(() => l.release()).not.toThrow();
        expect(() => l.resource).toThrow(LeaseReleasedError);
        await expect(l.destroy()).rejects.toBeInstanceOf(LeaseReleasedError);
        expect(core.stats().leased).toBe(0);
        await core.close();
        await expect(core.acquire()).rejects.toBeInstanceOf(PoolClosedError);

        await pool.close();
        await expect(pool.acquire()).rejects.toBeInstanceOf(PoolClosedError);
        await expect(pool.sendToQueue('q', 'x')).rejects.toBeInstanceOf(PoolClosedError);
        await expect(pool.consume('q', noop)).rejects.toBeInstanceOf(PoolClosedError);
        await expect(pool.withChannel(() => Promise.resolve())).rejects.toBeInstanceOf(
          PoolClosedError,
        );

        const kafka = new KafkaPool({ brokers: kafkaBrokers(), clientId: uniqueName('rel-bad-k') });
        await kafka.close();
        await expect(kafka.send({ topic: 't', messages: [{ value: 'x' }] })).rejects.toBeInstanceOf(
          PoolClosedError,
        );
        casesRun += 12;
        figure(
          'release() twice, use after release or close',
          'release idempotent; use after release / close → typed error',
          'release ×2: no-op, 2 holders → 2 channels; after release: LeaseReleasedError; after close: PoolClosedError (RabbitMQ, Kafka, core)',
        );
      } finally {
        await pool.close();
      }
    });
  });

  describe.skipIf(!isDisposableRabbitMqSupported())(
    'RabbitMQ message over max_message_size',
    () => {
      const disposable = useDisposableRabbitMq({
        label: 'size',
        extraConfig: ['max_message_size = 1048576'],
      });

      it('an oversize message fails with a typed error for its caller only; concurrent good publishes are all confirmed', async () => {
        const admin = await adminConnection(disposable().url);
        const q = uniqueName('rel-bad-size');
        const setup = await admin.createChannel();
        await setup.assertQueue(q, { durable: false });
        const pool = new RabbitMqPool({
          url: disposable().url,
          connectionName: uniqueName('rel-bad-size'),
        });
        try {
          await pool.start();
          const before = Array.from({ length: 100 }, (_, i) => pool.sendToQueue(q, `good-${i}`));
          const oversize = pool.sendToQueue(q, Buffer.alloc(2 * 1024 * 1024, 1));
          const after = Array.from({ length: 100 }, (_, i) =>
            pool.sendToQueue(q, `good-${100 + i}`),
          );
          const [goodResults, bad] = await Promise.all([
            Promise.allSettled([...before, ...after]),
            oversize.then(
              () => undefined,
              (e: unknown) => e,
            ),
          ]);
          // Not stored, and retrying cannot help: a PublishFailedError (406), like an unknown exchange (404).
          expect(bad, String(bad)).toBeInstanceOf(PublishFailedError);
          expect((bad as PublishFailedError).replyCode).toBe(406);
          expect(everythingSaid(bad)).toMatch(/max size|message size/i);
          const rejected = goodResults.filter((r) => r.status === 'rejected');
          expect(
            rejected.map((r) => String((r as PromiseRejectedResult).reason)),
            'good publishes failed because of the oversize one',
          ).toEqual([]);
          // At least once: every confirmed good message is in the queue (a retry may add a duplicate).
          const bodies = await drainBodies(admin, q);
          expect(new Set(bodies).size).toBe(200);
          await pool.sendToQueue(q, 'after');
          casesRun++;
          figure(
            'message over max_message_size',
            'PublishFailedError (406) for it alone; concurrent good publishes all confirmed',
            `2 MiB over a 1 MiB limit → ${(bad as MqPoolError).code} ${(bad as PublishFailedError).replyCode}; 200/200 good publishes confirmed and queued`,
          );
        } finally {
          await setup.deleteQueue(q).catch(() => undefined);
          await admin.close().catch(() => undefined);
          await pool.close();
        }
      });
    },
  );

  describe('summary', () => {
    it('every case passed, no unhandled rejection', () => {
      expect(unhandled).toEqual([]);
      const optionCases =
        rabbitCases.length + kafkaCases.length + poolCases.length + 1 + moduleCases.length + 3;
      const brokerCases = consumeCases.length + 1 + 4 + 3 + 3 + 12;
      const oversizeCases = isDisposableRabbitMqSupported() ? 1 : 0;
      const expected = optionCases + brokerCases + oversizeCases;
      expect(casesRun, 'cases that passed (see the failures above)').toBe(expected);
      console.log(`[reliability #9] ${casesRun}/${expected} bad-input cases passed`);
    });
  });
});

/** Takes every message off `queue` (no ack needed) and returns the bodies as text. */
async function drainBodies(admin: ChannelModel, queue: string): Promise<string[]> {
  const ch = await admin.createChannel();
  const bodies: string[] = [];
  try {
    for (;;) {
      const m = await ch.get(queue, { noAck: true });
      if (m === false) return bodies;
      bodies.push(m.content.toString());
    }
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/** A logger that keeps every line with its fields serialised, errors with message, stack and cause. */
function capture(lines: string[]): MqLogger {
  const at =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push(
        `${level} ${message} ${JSON.stringify(fields ?? {}, (_k, v: unknown) =>
          v instanceof Error ? everythingSaid(v) : typeof v === 'bigint' ? String(v) : v,
        )}`,
      );
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

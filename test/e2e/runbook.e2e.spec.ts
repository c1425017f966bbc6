import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import kafkajs from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as lib from '../../lib/index.js';
import { KafkaPool, MqPoolError, MqPoolModule, RabbitMqPool } from '../../lib/index.js';
import { MqPoolReadiness } from '../../lib/health/mq-pool-readiness.js';
import { HealthController } from '../../sample-app/src/health/health.controller.js';
import {
  amqpUrl,
  kafkaBrokers,
  memoryLogger,
  rawRabbit,
  unique,
  waitFor,
} from './nest/support/e2e-support.js';

/**
 * docs/RUNBOOK.md names metrics, /health fields, error codes, log lines and options; every one of
 * them must exist. The metrics and health fields are checked against a real app (both brokers,
 * the sample app's own HealthController) after traffic that makes the labelled series appear;
 * error codes against the library's exported error classes; log fragments and options against
 * the library's source and defaults. A self-test proves the checker rejects names that do not exist.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));

// ------------------------------------------------------------------ what the runbook names

interface MetricRef {
  token: string;
  name: string;
  labels: Record<string, string>;
}

interface RunbookNames {
  metrics: MetricRef[];
  healthFields: string[];
  codes: string[];
  logs: string[];
  options: { path: string; defaultText: string | undefined }[];
}

/** Extracts the names by the conventions stated at the top of docs/RUNBOOK.md. */
function extractNames(markdown: string): RunbookNames {
  const names: RunbookNames = { metrics: [], healthFields: [], codes: [], logs: [], options: [] };
  const tokens = [...markdown.matchAll(/`([^`\n]+)`( \(default ([^)]+)\))?/g)];
  for (const [, token = '', , defaultText] of tokens) {
    const metric = /^(mq_[a-z_]+)(?:\{([^}]*)\})?$/.exec(token);
    if (metric) {
      const labels: Record<string, string> = {};
      for (const [, k = '', v = ''] of (metric[2] ?? '').matchAll(/(\w+)="([^"]*)"/g))
        labels[k] = v;
      names.metrics.push({ token, name: metric[1] ?? '', labels });
    } else if (/^details\.[\w[\].]+$/.test(token)) names.healthFields.push(token);
    else if (/^MQ_[A-Z_]+$/.test(token)) names.codes.push(token);
    else if (token.startsWith('log: ')) names.logs.push(token.slice('log: '.length));
    else if (/^(rabbitmq|kafka|shutdown|startup)\.[\w.]+$/.test(token))
      names.options.push({ path: token, defaultText });
  }
  return names;
}

// ------------------------------------------------------------------ checking them

interface Sample {
  name: string;
  labels: Record<string, string>;
}

interface Scrape {
  types: Map<string, string>;
  samples: Sample[];
}

function parseMetrics(text: string): Scrape {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type) types.set(type[1] ?? '', type[2] ?? '');
    const sample = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? \S+$/.exec(line);
    if (sample) {
      const labels: Record<string, string> = {};
      for (const [, k = '', v = ''] of (sample[2] ?? '').matchAll(/(\w+)="([^"]*)"/g))
        labels[k] = v;
      samples.push({ name: sample[1] ?? '', labels });
    }
  }
  return { types, samples };
}

/** The `# TYPE` family of a name: itself, or a histogram's `_bucket`/`_sum`/`_count` series. */
function familyOf(name: string, scrape: Scrape): string | undefined {
  if (scrape.types.has(name)) return name;
  const suffix = /_(bucket|sum|count)$/.exec(name);
  const base = suffix ? name.slice(0, -suffix[0].length) : undefined;
  return base !== undefined && scrape.types.get(base) === 'histogram' ? base : undefined;
}

/**
 * Where a label value that the test's traffic did not produce must be defined: the recorders'
 * label unions (a value outside them can never be emitted).
 */
const LABEL_SOURCES: Record<string, string[]> = {
  reason: [
    'lib/core/metrics-recorder.ts',
    'lib/rabbitmq/rabbitmq-metrics.ts',
    'lib/kafka/kafka-metrics.ts',
  ],
  outcome: [
    'lib/rabbitmq/rabbitmq-metrics.ts',
    'lib/kafka/kafka-metrics.ts',
    'lib/metrics/rabbitmq-metrics.recorder.ts',
  ],
  broker: ['lib/nest/mq-pool.constants.ts'],
};

async function checkMetric(ref: MetricRef, scrape: Scrape): Promise<string | undefined> {
  const family = familyOf(ref.name, scrape);
  if (family === undefined)
    return `${ref.token}: no "# TYPE ${ref.name}" (nor its histogram) in /metrics`;
  const series = scrape.samples.filter((s) =>
    family === ref.name
      ? s.name === family || s.name.startsWith(`${family}_`)
      : s.name === ref.name,
  );
  if (series.length === 0) return `${ref.token}: declared but no series in /metrics`;
  for (const [key, value] of Object.entries(ref.labels)) {
    if (!series.some((s) => key in s.labels))
      return `${ref.token}: ${ref.name} has no label "${key}"`;
    if (series.some((s) => s.labels[key] === value)) continue;
    const files = LABEL_SOURCES[key];
    if (!files) return `${ref.token}: no series with ${key}="${value}"`;
    const text = (await Promise.all(files.map((f) => readFile(join(root, f), 'utf8')))).join('\n');
    if (!text.includes(`'${value}'`))
      return `${ref.token}: ${key}="${value}" is neither in /metrics nor a label value the library defines`;
  }
  return undefined;
}

/** Resolves `details.a.b[].c` in any of the JSON documents; `[]` = some element of an array. */
function resolves(path: string, docs: unknown[]): boolean {
  const walk = (value: unknown, segments: string[]): boolean => {
    if (segments.length === 0) return value !== undefined;
    if (typeof value !== 'object' || value === null) return false;
    const [head = '', ...rest] = segments;
    const each = head.endsWith('[]');
    const child = (value as Record<string, unknown>)[each ? head.slice(0, -2) : head];
    if (!each) return walk(child, rest);
    return Array.isArray(child) && child.some((element) => walk(element, rest));
  };
  return docs.some((doc) => walk(doc, path.split('.')));
}

/** Codes of the exported error classes; `code` is an instance field, so each class is constructed. */
function exportedErrorCodes(): Set<string> {
  // Stands for any constructor argument: property reads and calls return it (so `errors.map(…)`
  // works too), string/number use gives 'x'.
  const anything: object = new Proxy(function () {}, {
    get: (_t, key) => (key === Symbol.toPrimitive ? () => 'x' : anything),
    apply: () => anything,
  });
  const codes = new Set<string>();
  for (const value of Object.values(lib)) {
    if (typeof value !== 'function' || !(value.prototype instanceof MqPoolError)) continue;
    const ErrorClass = value as new (...args: unknown[]) => MqPoolError;
    codes.add(new ErrorClass(anything, anything, anything, anything, anything, anything).code);
  }
  return codes;
}

async function librarySource(): Promise<string> {
  const files = (await readdir(join(root, 'lib'), { recursive: true })).filter((f) =>
    f.endsWith('.ts'),
  );
  return (await Promise.all(files.map((f) => readFile(join(root, 'lib', f), 'utf8')))).join('\n');
}

const OPTION_FILES: Record<string, string> = {
  rabbitmq: 'lib/rabbitmq/rabbitmq-options.ts',
  kafka: 'lib/kafka/kafka-options.ts',
  shutdown: 'lib/nest/mq-pool-module-options.ts',
  startup: 'lib/nest/mq-pool-module-options.ts',
};

/** An option exists when each segment is declared in its options file; a stated default must match. */
async function checkOption(option: {
  path: string;
  defaultText: string | undefined;
}): Promise<string | undefined> {
  const [scope = '', ...keys] = option.path.split('.');
  const source = await readFile(join(root, OPTION_FILES[scope] ?? ''), 'utf8');
  for (const key of keys)
    if (!new RegExp(`\\b${key}\\??:`).test(source)) return `${option.path}: no option "${key}"`;
  if (option.defaultText === undefined) return undefined;
  const defaults: Record<string, unknown> =
    scope === 'rabbitmq'
      ? lib.DEFAULT_RABBITMQ_OPTIONS
      : scope === 'kafka'
        ? lib.DEFAULT_KAFKA_OPTIONS
        : lib.DEFAULT_MODULE_OPTIONS;
  const path = scope === 'rabbitmq' || scope === 'kafka' ? keys : keys.slice(-1);
  const actual = path.reduce<unknown>(
    (v, k) => (typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[k] : undefined),
    defaults,
  );
  const stated = option.defaultText.split(/[\s,]/)[0] ?? '';
  const ok =
    stated === 'none'
      ? actual === undefined ||
        (typeof actual === 'object' && actual !== null && Object.keys(actual).length === 0)
      : stated === 'true' || stated === 'false'
        ? actual === (stated === 'true')
        : actual === Number(stated);
  return ok
    ? undefined
    : `${option.path}: runbook says default ${stated}, code has ${String(actual)}`;
}

interface Evidence {
  scrape: Scrape;
  health: unknown[];
  codes: Set<string>;
  source: string;
}

async function problems(names: RunbookNames, evidence: Evidence): Promise<string[]> {
  const out: string[] = [];
  for (const metric of names.metrics) {
    const problem = await checkMetric(metric, evidence.scrape);
    if (problem) out.push(problem);
  }
  for (const field of names.healthFields)
    if (!resolves(field, evidence.health)) out.push(`${field}: not in the /health JSON`);
  for (const code of names.codes)
    if (!evidence.codes.has(code)) out.push(`${code}: no exported error class has this code`);
  for (const log of names.logs)
    if (!evidence.source.includes(log)) out.push(`log "${log}": not in the library's source`);
  for (const option of names.options) {
    const problem = await checkOption(option);
    if (problem) out.push(problem);
  }
  return out;
}

// ------------------------------------------------------------------ a real app, real traffic

const queue = unique('e2e-runbook');
const handlerQueue = unique('e2e-runbook-handler');
const topic = unique('e2e-runbook');
const groupId = unique('e2e-runbook');
let app: INestApplication;
let evidence: Evidence;
let runbook: RunbookNames;

beforeAll(async () => {
  const raw = await rawRabbit();
  await (await raw.model.createChannel()).assertQueue(queue, { durable: false });
  await raw.close();

  const moduleRef = await Test.createTestingModule({
    imports: [
      PrometheusModule.register({ defaultMetrics: { enabled: false } }),
      TerminusModule,
      MqPoolModule.forRoot({
        rabbitmq: { url: amqpUrl(), leakDetectionMs: 200, connectionName: 'e2e-runbook' },
        kafka: {
          brokers: kafkaBrokers(),
          clientId: 'e2e-runbook',
          allowAutoTopicCreation: true,
          transactions: { transactionalIdPrefix: unique('e2e-runbook'), maxProducers: 1 },
        },
        logger: memoryLogger(),
      }),
    ],
    // The sample app's own readiness/liveness controller: the runbook's fields are its output.
    controllers: [HealthController],
  }).compile();
  app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  const rabbit = app.get(RabbitMqPool);
  const kafka = app.get(KafkaPool);

  // RabbitMQ: acks, a failing message (requeued once, then rejected), a failed publish, a leak.
  let acked = 0;
  let failed = 0;
  const consumer = await rabbit.consume(queue, (msg) => {
    if (msg.content.toString() === 'poison') {
      failed++;
      throw new Error('poison message');
    }
    acked++;
  });
  await rabbit.sendToQueue(queue, 'ok');
  await rabbit.sendToQueue(queue, 'poison');
  await waitFor(() => acked >= 1 && failed >= 2, 15_000, 'ack, requeue and reject');
  // A declarative handler: handled, failed, retried once (50 ms delay) and dead-lettered.
  let subscribeRuns = 0;
  const subscription = await rabbit.subscribe<{ kind: string }>(
    { queue: handlerQueue, retry: { attempts: 2, delayMs: 50 } },
    async ({ kind }) => {
      subscribeRuns++;
      if (kind === 'bad') throw new lib.NonRetriableError('bad message');
      if (kind === 'flaky' && subscribeRuns < 4) throw new Error('flaky downstream');
    },
  );
  await rabbit.sendToQueue(handlerQueue, { kind: 'ok' });
  await rabbit.sendToQueue(handlerQueue, { kind: 'bad' });
  await rabbit.sendToQueue(handlerQueue, { kind: 'flaky' });
  await waitFor(
    () => subscribeRuns >= 4,
    15_000,
    'a handled, a retried and a dead-lettered message',
  );
  await subscription.cancel();
  // RPC: one request answered, one whose handler throws (an error reply).
  const rpcQueue = unique('runbook-rpc');
  const server = await rabbit.serveRpc<{ ok: boolean }, string>(
    { queue: rpcQueue },
    async ({ ok }) => {
      if (!ok) throw new Error('refused');
      return 'done';
    },
  );
  await rabbit.request('', rpcQueue, { ok: true });
  await rabbit.request('', rpcQueue, { ok: false }).catch(() => undefined);
  await server.cancel();
  await rabbit.publish(unique('no-such-exchange'), 'x', 'lost').catch(() => undefined);
  await rabbit.withChannel(() => new Promise((r) => setTimeout(r, 700)));
  await waitFor(() => rabbit.stats().leaks >= 1, 5_000, 'a leak report');

  // Kafka: a managed consumer (health lists it), a send it consumes, a transaction.
  let consumed = 0;
  await kafka.send({ topic, messages: [{ value: 'create the topic' }] });
  await kafka.consume({
    groupId,
    topics: [topic],
    fromBeginning: true,
    eachMessage: async () => {
      consumed++;
    },
  });
  await kafka.withTransaction(async (tx) => {
    await tx.send({ topic, messages: [{ value: 'in a transaction' }] });
  });
  await waitFor(() => consumed >= 2, 30_000, 'kafka consumption');

  const metrics = await (await fetch(`${url}/metrics`)).text();
  const health: unknown[] = [];
  // Twice while up (the second carries the first one's lastPing), then once going down.
  for (let i = 0; i < 2; i++) {
    const res = await fetch(`${url}/health`);
    expect(res.status).toBe(200);
    health.push(await res.json());
  }
  await consumer.cancel();
  app.get(MqPoolReadiness).markShuttingDown(); // what SIGTERM does first
  const down = await fetch(`${url}/health`);
  expect(down.status).toBe(503);
  health.push(await down.json());

  evidence = {
    scrape: parseMetrics(metrics),
    health,
    codes: exportedErrorCodes(),
    source: await librarySource(),
  };
  runbook = extractNames(await readFile(join(root, 'docs/RUNBOOK.md'), 'utf8'));
}, 180_000);

afterAll(async () => {
  await app?.close();
  const raw = await rawRabbit();
  const cleanup = await raw.model.createChannel();
  for (const q of [queue, handlerQueue, `${handlerQueue}.retry.50`, `${handlerQueue}.dlq`]) {
    await cleanup.deleteQueue(q).catch(() => undefined);
  }
  await raw.close();
  const admin = new kafkajs.Kafka({
    brokers: kafkaBrokers(),
    clientId: 'e2e-runbook-cleanup',
    logLevel: kafkajs.logLevel.NOTHING,
  }).admin();
  await admin.connect();
  try {
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 }).catch(() => undefined);
  } finally {
    await admin.disconnect();
  }
}, 60_000);

describe('docs/RUNBOOK.md names only what exists', () => {
  it('names metrics, health fields, error codes, log lines and options (the conventions parse)', () => {
    console.log(
      `[runbook] ${runbook.metrics.length} metric refs, ${runbook.healthFields.length} health fields, ` +
        `${runbook.codes.length} error codes, ${runbook.logs.length} log lines, ${runbook.options.length} options`,
    );
    expect(runbook.metrics.length).toBeGreaterThan(10);
    expect(runbook.healthFields.length).toBeGreaterThan(10);
    expect(runbook.codes.length).toBeGreaterThan(10);
    expect(runbook.logs.length).toBeGreaterThan(10);
    expect(runbook.options.length).toBeGreaterThan(10);
    // Every metric of DESIGN §3 is covered somewhere in the runbook.
    const named = new Set(runbook.metrics.map((m) => familyOf(m.name, evidence.scrape)));
    for (const name of Object.values(lib.MQ_METRIC)) expect(named, name).toContain(name);
  });

  it('every metric has a "# TYPE" line and series in /metrics; every label value can occur', async () => {
    const found = await Promise.all(runbook.metrics.map((m) => checkMetric(m, evidence.scrape)));
    expect(found.filter((p) => p !== undefined)).toEqual([]);
  });

  it('every health field resolves in the real /health JSON (rabbitmq and kafka indicators)', () => {
    expect(runbook.healthFields.filter((f) => !resolves(f, evidence.health))).toEqual([]);
  });

  it('every error code belongs to an error class exported from lib/index.ts', () => {
    expect(evidence.codes.size).toBeGreaterThan(15);
    expect(runbook.codes.filter((c) => !evidence.codes.has(c))).toEqual([]);
  });

  it('every log line is one the library writes; every option exists with the stated default', async () => {
    expect(runbook.logs.filter((l) => !evidence.source.includes(l))).toEqual([]);
    const optionProblems = await Promise.all(runbook.options.map((o) => checkOption(o)));
    expect(optionProblems.filter((p) => p !== undefined)).toEqual([]);
  });

  it('the checker itself rejects names that do not exist', async () => {
    const bogus = extractNames(
      [
        '`mq_pool_bogus_total` `mq_pool_waiting{reason="timeout"}` `mq_consume_total{outcome="teleported"}`',
        '`details.rabbitmq.bogus` `details.kafka.consumers[].bogus` `MQ_POOL_BOGUS`',
        '`log: the pool exploded` `rabbitmq.bogusMs` `rabbitmq.acquireTimeoutMs` (default 4000)',
      ].join('\n'),
    );
    const found = await problems(bogus, evidence);
    expect(found).toHaveLength(9);
    // And the real runbook, through the same function, has none.
    expect(await problems(runbook, evidence)).toEqual([]);
  });
});

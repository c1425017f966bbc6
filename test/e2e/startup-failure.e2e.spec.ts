import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amqpUrl, kafkaBrokers } from '../support/broker-env.js';
import {
  createPackedApp,
  packLibrary,
  REPO_ROOT,
  type PackedLibrary,
} from '../support/packed-app.js';

/**
 * A start-up that cannot reach its broker ends the process non-zero with one clear error — tested
 * the way users run apps: as child processes, outside the test runner (whose own handles would
 * keep the event loop alive and hide an early, silent exit). The apps: a CommonJS Nest app with
 * `bootstrap()` (listening, and initialising only), an ES module app with top-level `await`, both
 * installed from the packed tarball, and the sample app's built `main.js`.
 */
const run = promisify(execFile);
const fixtures = join(REPO_ROOT, 'test/fixtures/startup');
/** A password that must appear nowhere in what the app prints. */
const SECRET = 'Pw-must-not-leak-7f3a';
/** The defaults the apps run with (README: rabbitmq.connectTimeoutMs, kafka.startTimeoutMs). */
const RABBIT_START_DEADLINE_MS = 5_000;
const KAFKA_START_DEADLINE_MS = 15_000;
/** Boot of a Nest app on a loaded 2-core machine, plus closing what started. */
const MARGIN_MS = 6_000;

let lib: PackedLibrary | undefined;
let cjsApp = '';
let esmApp = '';
let closedPort = 0;

beforeAll(async () => {
  lib = await packLibrary('mq-pool-startup-');
  const options = join(fixtures, 'startup-options.ts');
  [cjsApp, esmApp] = await Promise.all([
    createPackedApp(lib, {
      name: 'startup-cjs',
      type: 'commonjs',
      sources: [join(fixtures, 'startup.cjs.ts'), options],
    }),
    createPackedApp(lib, {
      name: 'startup-esm',
      type: 'module',
      sources: [
        join(fixtures, 'startup.esm.ts'),
        join(fixtures, 'awaited-operations.esm.ts'),
        options,
      ],
    }),
  ]);
  await run('npm', ['run', 'build:sample'], { cwd: REPO_ROOT });
  closedPort = await freePort();
}, 600_000);

afterAll(async () => {
  if (lib) await rm(lib.workDir, { recursive: true, force: true });
});

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  output: string;
}

/** Runs `node <args>` to its end (killed after 90 s); stdout and stderr together. */
function runNode(args: string[], cwd: string, env: Record<string, string>): Promise<Outcome> {
  const started = performance.now();
  const child = spawn(process.execPath, args, {
    cwd,
    env: { ...process.env, ...env, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (output += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (output += s));
  const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve) =>
    child.once('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, ms: Math.round(performance.now() - started), output });
    }),
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** The shared broker's URL with other credentials, port or vhost. */
function rabbitUrl(change: { password?: string; port?: number; vhost?: string }): string {
  const url = new URL(amqpUrl());
  if (change.password !== undefined) url.password = change.password;
  if (change.port !== undefined) url.port = String(change.port);
  if (change.vhost !== undefined) url.pathname = `/${encodeURIComponent(change.vhost)}`;
  return url.toString();
}

type App = 'cjs listen()' | 'esm top-level await' | 'cjs init() only' | 'sample app';

/** Runs one app with `env` (the fixture apps configure only the brokers named in it). */
function runApp(app: App, env: { AMQP_URL?: string; KAFKA_BROKERS?: string; FAIL_FAST?: string }) {
  switch (app) {
    case 'cjs listen()':
      return runNode(['dist/startup.cjs.js'], cjsApp, env);
    case 'cjs init() only':
      return runNode(['dist/startup.cjs.js'], cjsApp, { ...env, START_MODE: 'init' });
    case 'esm top-level await':
      return runNode(['dist/startup.esm.js'], esmApp, env);
    case 'sample app':
      // The sample app needs both brokers: the one not under test is the real one.
      return runNode(['sample-app/dist/main.js'], REPO_ROOT, {
        AMQP_URL: env.AMQP_URL ?? amqpUrl(),
        KAFKA_BROKERS: env.KAFKA_BROKERS ?? kafkaBrokers().join(','),
        PORT: '0',
      });
  }
}

const APPS: App[] = ['cjs listen()', 'esm top-level await', 'cjs init() only', 'sample app'];

interface Row {
  name: string;
  env: () => { AMQP_URL?: string; KAFKA_BROKERS?: string };
  error: string;
  /** Built when the test runs (the closed port is known only then). */
  words: () => RegExp;
  /** Refusals fail at once; the rest at the start deadline. */
  deadlineMs: number | 'at once';
}

const ROWS: Row[] = [
  {
    name: 'RabbitMQ refuses the password',
    env: () => ({ AMQP_URL: rabbitUrl({ password: SECRET }) }),
    error: 'BrokerAuthenticationError',
    words: () => /refused the credentials \(403 ACCESS-REFUSED\)/,
    deadlineMs: 'at once',
  },
  {
    name: 'the vhost does not exist',
    env: () => ({ AMQP_URL: rabbitUrl({ vhost: 'no-such-vhost-startup' }) }),
    error: 'BrokerAccessDeniedError',
    words: () => /refused to open vhost "no-such-vhost-startup" \(530 NOT_ALLOWED/,
    deadlineMs: 'at once',
  },
  {
    name: 'nothing listens on the RabbitMQ port',
    env: () => ({ AMQP_URL: rabbitUrl({ password: SECRET, port: closedPort }) }),
    error: 'ConnectionUnavailableError',
    words: () => /within connectTimeoutMs \(5000ms\): connection refused/,
    deadlineMs: RABBIT_START_DEADLINE_MS,
  },
  {
    name: 'nothing listens on the Kafka port',
    env: () => ({ KAFKA_BROKERS: `127.0.0.1:${closedPort}` }),
    error: 'BrokerUnreachableError',
    words: () => new RegExp(`reached none of 127\\.0\\.0\\.1:${closedPort}: connection refused`),
    deadlineMs: KAFKA_START_DEADLINE_MS,
  },
];

describe('a start-up that cannot reach its broker (startup.failFast default)', () => {
  describe.each(ROWS)('$name', (row) => {
    it('every app exits 1 with the typed error naming pool, target and cause; no secret printed', async () => {
      const results = await Promise.all(APPS.map((app) => runApp(app, row.env())));
      for (const [i, r] of results.entries()) {
        const label = `${APPS[i]}: exit ${r.code}/${r.signal} after ${r.ms}ms\n${r.output.slice(-3000)}`;
        expect(r.code, label).toBe(1);
        expect(r.output, label).not.toContain('APP_STARTED');
        expect(r.output, label).toContain(row.error);
        expect(r.output, label).toMatch(/pool "default"/);
        expect(r.output, label).toMatch(row.words());
        expect(r.output, label).not.toContain(SECRET);
        expect(r.output, label).not.toMatch(/amqp:\/\/[^*\s]+:[^@\s]+@/);
        if (row.deadlineMs === 'at once') {
          // A refusal is final: no wait for the 5 s start deadline, no retry loop first.
          expect(r.ms, label).toBeLessThan(RABBIT_START_DEADLINE_MS);
          expect(r.output, label).not.toMatch(/within connectTimeoutMs/);
        } else {
          expect(r.ms, label).toBeGreaterThanOrEqual(row.deadlineMs);
          expect(r.ms, label).toBeLessThan(row.deadlineMs + MARGIN_MS);
        }
      }
    }, 180_000);
  });
});

describe('both brokers configured', () => {
  it("the first failure ends start-up: a refused password does not wait for Kafka's 15 s deadline", async () => {
    const r = await runApp('cjs listen()', {
      AMQP_URL: rabbitUrl({ password: SECRET }),
      KAFKA_BROKERS: `127.0.0.1:${closedPort}`,
    });
    const label = `exit ${r.code} after ${r.ms}ms\n${r.output.slice(-3000)}`;
    expect(r.code, label).toBe(1);
    expect(r.output, label).toContain('BrokerAuthenticationError');
    expect(r.ms, label).toBeLessThan(RABBIT_START_DEADLINE_MS);
    expect(r.output, label).not.toContain(SECRET);
  }, 60_000);
});

describe('startup.failFast: false', () => {
  it('the app starts with readiness down, says once what is wrong and that it keeps trying', async () => {
    const r = await runApp('cjs listen()', {
      AMQP_URL: rabbitUrl({ password: SECRET }),
      FAIL_FAST: 'false',
    });
    const label = `exit ${r.code} after ${r.ms}ms\n${r.output.slice(-3000)}`;
    expect(r.code, label).toBe(0);
    expect(r.output, label).toContain('APP_STARTED {"rabbitHealthy":false}');
    const said = r.output.split('\n').filter((l) => l.includes('starting anyway'));
    expect(said, label).toHaveLength(1);
    expect(said[0], label).toMatch(/refused the credentials.*keeps reconnecting/);
    expect(r.output, label).not.toContain(SECRET);
  }, 60_000);
});

describe('awaited operations against a broker that is down keep the process alive until they settle', () => {
  const EXPECTED: Record<string, string> = {
    'rabbitmq start': 'ConnectionUnavailableError',
    'rabbitmq acquire': 'AcquireTimeoutError',
    'rabbitmq withChannel': 'AcquireTimeoutError',
    'rabbitmq publish': 'AcquireTimeoutError',
    'rabbitmq drain after a failed start': 'resolved',
    'kafka start': 'BrokerUnreachableError',
    'kafka send': 'SendTimeoutError',
    'kafka ping': 'BrokerUnreachableError',
    'kafka consume (group join)': 'ConsumerJoinTimeoutError',
  };
  it.each(Object.entries(EXPECTED))(
    '%s → %s, then a clean exit',
    async (operation, expected) => {
      const r = await runNode(['dist/awaited-operations.esm.js', operation], esmApp, {
        DOWN_AMQP_URL: rabbitUrl({ port: closedPort }),
        DOWN_KAFKA_BROKER: `127.0.0.1:${closedPort}`,
      });
      const label = `exit ${r.code} after ${r.ms}ms\n${r.output.slice(-2000)}`;
      // Code 13 with no line is Node's "unsettled top-level await": the process ran out of work.
      expect(r.code, label).toBe(0);
      const line = r.output.split('\n').find((l) => l.startsWith('SETTLED '));
      expect(line, label).toBeDefined();
      expect(JSON.parse(line!.slice('SETTLED '.length)), label).toMatchObject({
        name: operation,
        outcome: expected,
      });
    },
    60_000,
  );
});

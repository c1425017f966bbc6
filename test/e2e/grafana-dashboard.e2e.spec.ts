/**
 * The Grafana dashboard's queries are real: the built sample app runs against the real brokers,
 * gets traffic (orders, events, a transaction), a real Prometheus (Debian's `prometheus` package)
 * scrapes its /metrics every second, and EVERY `expr` of docs/grafana/nestjs-mq-pool-dashboard.json
 * is evaluated through Prometheus's HTTP API. A renamed metric or label, a PromQL typo or a series
 * the library stopped exporting fails here.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { amqpUrl, kafkaBrokers } from '../support/broker-env.js';
import { toolAvailable } from '../support/skip-reasons.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const DASHBOARD = join(root, 'docs/grafana/nestjs-mq-pool-dashboard.json');
const PROMETHEUS = process.env.PROMETHEUS_BIN ?? '/usr/bin/prometheus';
/** Without Prometheus the suite is skipped, and the run's skip summary says why. */
const withProm = describe.skipIf(!toolAvailable(PROMETHEUS));
/** What `$__rate_interval` stands for here: ≥ 4 scrapes at the 1 s interval, recent traffic inside. */
const RATE_INTERVAL = '30s';
/**
 * Series that exist only after a failure the happy-path traffic cannot cause: their queries must
 * still evaluate (status success), but may return nothing.
 */
const MAY_BE_EMPTY = [/mq_publish_errors_total/, /outcome="stale_ack"/];

interface PromResponse {
  status: string;
  error?: string;
  data: {
    resultType: string;
    result: Array<{ metric: Record<string, string>; value: [number, string] }>;
  };
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Every `expr` anywhere in the dashboard JSON (panels, nested rows, targets), with its panel title. */
function collectExprs(
  node: unknown,
  panel = '(dashboard)',
): Array<{ panel: string; expr: string }> {
  if (Array.isArray(node)) return node.flatMap((n) => collectExprs(n, panel));
  if (typeof node !== 'object' || node === null) return [];
  const obj = node as Record<string, unknown>;
  const title = typeof obj['title'] === 'string' && 'type' in obj ? obj['title'] : panel;
  const own = typeof obj['expr'] === 'string' ? [{ panel: title, expr: obj['expr'] }] : [];
  return [...own, ...Object.values(obj).flatMap((v) => collectExprs(v, title))];
}

/** Newest modification time under `path` (a file or a directory tree), ms. */
function newest(path: string): number {
  const st = statSync(path, { throwIfNoEntry: false });
  if (!st) return 0;
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((name) => newest(join(path, name))));
}

/**
 * The library's dist/ and the sample app's build are newer than every source they come from:
 * then this test reuses them instead of rebuilding (a rebuild deletes dist/ under any other
 * test that runs the built app at the same time, and costs the shared machine a minute).
 */
function buildIsFresh(): boolean {
  const built = Math.min(
    newest(join(root, 'dist/index.js')),
    newest(join(root, 'sample-app/dist/main.js')),
  );
  const sources = Math.max(
    ...['lib', 'sample-app/src', 'tsconfig.json', 'tsconfig.build.json', 'package.json'].map((p) =>
      newest(join(root, p)),
    ),
  );
  return built > 0 && built > sources;
}

function stop(child: ChildProcess | undefined, timeoutMs: number): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

withProm('Grafana dashboard queries against a real Prometheus scraping the sample app', () => {
  const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Record<string, unknown>;
  const exprs = collectExprs(dashboard['panels']);
  let app: ChildProcess | undefined;
  let prometheus: ChildProcess | undefined;
  const logs = { app: [] as string[], prometheus: [] as string[] };
  let tmp = '';
  let appBase = '';
  let promBase = '';

  const prom = async (path: string, params: Record<string, string>): Promise<PromResponse> => {
    const res = await fetch(`${promBase}${path}?${new URLSearchParams(params)}`, {
      signal: AbortSignal.timeout(10_000),
    });
    return (await res.json()) as PromResponse;
  };
  const post = async (path: string, body: unknown): Promise<number> => {
    const res = await fetch(appBase + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(15_000),
    });
    await res.arrayBuffer();
    return res.status;
  };

  beforeAll(async () => {
    // The sample app runs from its build, importing the library by name (built dist/), as users do.
    if (!buildIsFresh()) {
      await run('npm', ['run', '--silent', 'build'], { cwd: root, timeout: 180_000 });
      await run('npm', ['run', '--silent', 'build:sample'], { cwd: root, timeout: 180_000 });
    }

    const appPort = await freePort();
    appBase = `http://127.0.0.1:${appPort}`;
    app = spawn(process.execPath, ['sample-app/dist/main.js'], {
      cwd: root,
      env: {
        ...process.env,
        PORT: String(appPort),
        AMQP_URL: amqpUrl(),
        KAFKA_BROKERS: kafkaBrokers().join(','),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const s of [app.stdout!, app.stderr!])
      s.on('data', (c: Buffer) => logs.app.push(...c.toString().split('\n').filter(Boolean)));
    await waitFor(
      'the sample app to be ready',
      async () => (await fetch(`${appBase}/health`)).status === 200,
      90_000,
    );

    tmp = mkdtempSync(join(tmpdir(), 'mq-pool-prometheus-'));
    const promPort = await freePort();
    promBase = `http://127.0.0.1:${promPort}`;
    writeFileSync(
      join(tmp, 'prometheus.yml'),
      [
        'global:',
        '  scrape_interval: 1s',
        '  scrape_timeout: 900ms',
        '  evaluation_interval: 1s',
        'scrape_configs:',
        '  - job_name: sample-app',
        '    static_configs:',
        `      - targets: ['127.0.0.1:${appPort}']`,
        '',
      ].join('\n'),
    );
    prometheus = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(tmp, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(tmp, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    for (const s of [prometheus.stdout!, prometheus.stderr!])
      s.on('data', (c: Buffer) =>
        logs.prometheus.push(...c.toString().split('\n').filter(Boolean)),
      );
    await waitFor(
      'Prometheus to be ready',
      async () => (await fetch(`${promBase}/-/ready`)).status === 200,
      60_000,
    );

    // Prometheus applies service discovery in batches (~5 s): traffic starts once it scrapes.
    await waitFor(
      'the first scrape of the sample app',
      async () =>
        (await prom('/api/v1/query', { query: 'up{job="sample-app"} == 1' })).data.result.length ===
        1,
      60_000,
    );

    // Traffic: confirmed publishes (half through ChannelInterceptor), Kafka sends, transactions.
    const statuses: number[] = [];
    const burst = async (round: number): Promise<void> => {
      const calls: Array<Promise<number>> = [];
      for (let i = 0; i < 20; i++) {
        calls.push(
          post(i % 2 === 0 ? '/orders' : '/orders/direct', { sku: `sku-${i}`, quantity: 1 }),
        );
        calls.push(post('/events', { type: `dash.${i % 3}`, payload: { round, i } }));
      }
      calls.push(post('/events/transfer', { from: `a-${round}`, to: `b-${round}`, amount: 5 }));
      statuses.push(...(await Promise.all(calls)));
    };
    // Spread over several scrapes, so every rate() window holds more than one sample with traffic.
    for (let round = 0; round < 6; round++) {
      await burst(round);
      await new Promise((resolve) => setTimeout(resolve, 700));
    }
    expect(statuses.filter((s) => s !== 201)).toEqual([]);
    await waitFor(
      'orders and events to be consumed',
      async () => {
        const stats = (await (await fetch(`${appBase}/stats`)).json()) as {
          orders: { consumed: number };
          events: { consumed: number };
        };
        return stats.orders.consumed > 0 && stats.events.consumed > 0;
      },
      60_000,
    );
    // A few more scrapes after the traffic, so the last samples hold the final counters.
    const trafficEnd = Date.now() / 1000;
    await waitFor(
      'two more scrapes after the traffic',
      async () => {
        const up = await prom('/api/v1/query', { query: 'up{job="sample-app"} == 1' });
        const last = await prom('/api/v1/query', { query: 'timestamp(up{job="sample-app"})' });
        return (
          up.data.result.length === 1 && Number(last.data.result[0]?.value[1] ?? 0) > trafficEnd + 2
        );
      },
      30_000,
    );
  }, 420_000);

  afterAll(async () => {
    await stop(prometheus, 10_000);
    await stop(app, 30_000);
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  it('is a Grafana 10 dashboard on a ${DS_PROMETHEUS} data source with a pool variable', () => {
    expect(dashboard['schemaVersion']).toBeGreaterThanOrEqual(36);
    const vars = (dashboard['templating'] as { list: Array<Record<string, unknown>> }).list;
    expect(vars.find((v) => v['name'] === 'DS_PROMETHEUS')?.['type']).toBe('datasource');
    expect(vars.find((v) => v['name'] === 'pool')?.['definition']).toBe(
      'label_values(mq_pool_connections, pool)',
    );
    const panels = dashboard['panels'] as Array<Record<string, unknown>>;
    const ids = panels.map((p) => p['id']);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels.filter((p) => Array.isArray(p['targets'])))
      expect(p['datasource'], String(p['title'])).toEqual({
        type: 'prometheus',
        uid: '${DS_PROMETHEUS}',
      });
    expect(exprs.length).toBeGreaterThanOrEqual(15);
  });

  it("the pool variable's label_values query lists the sample app's pool", async () => {
    const res = await fetch(
      `${promBase}/api/v1/label/pool/values?${new URLSearchParams({ 'match[]': 'mq_pool_connections' })}`,
    );
    const body = (await res.json()) as { status: string; data: string[] };
    expect(body.status).toBe('success');
    expect(body.data).toContain('default');
  });

  it('every expr evaluates, and those the traffic must produce return series', async () => {
    const failures: string[] = [];
    const figures: string[] = [];
    for (const { panel, expr } of exprs) {
      const query = expr
        .replaceAll('$__rate_interval', RATE_INTERVAL)
        .replaceAll('${pool}', 'default')
        .replaceAll('$pool', 'default');
      if (query.includes('$')) {
        failures.push(`${panel}: unhandled variable in ${expr}`);
        continue;
      }
      const r = await prom('/api/v1/query', { query });
      if (r.status !== 'success') {
        failures.push(`${panel}: ${r.status} ${r.error ?? ''} for ${query}`);
        continue;
      }
      const mayBeEmpty = MAY_BE_EMPTY.some((re) => re.test(expr));
      if (r.data.result.length === 0 && !mayBeEmpty) {
        failures.push(`${panel}: no series for ${query}`);
        continue;
      }
      // A per-second rate of confirmed publishes/sends/acquires must show the traffic.
      if (/rate\(mq_(publish_seconds|pool_acquire_seconds)_count/.test(expr)) {
        const max = Math.max(...r.data.result.map((s) => Number(s.value[1])));
        if (!(max > 0)) failures.push(`${panel}: rate is ${max}, expected > 0 for ${query}`);
      }
      figures.push(
        `${panel} :: ${r.data.result
          .slice(0, 3)
          .map((s) => `${Object.values(s.metric).join(',')}=${Number(s.value[1]).toPrecision(3)}`)
          .join(' ')}`,
      );
    }
    console.log(`evaluated ${exprs.length} expressions:\n  ${figures.join('\n  ')}`);
    if (failures.length > 0) {
      console.error(`app log tail:\n${logs.app.slice(-15).join('\n')}`);
      console.error(`prometheus log tail:\n${logs.prometheus.slice(-10).join('\n')}`);
    }
    expect(failures).toEqual([]);
  });
});

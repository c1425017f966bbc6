/**
 * The demo tour: starts the built sample app, drives it over HTTP, and prints what happened.
 * Run through `npm run demo` (which brings brokers up and builds first). `--once` stops the app
 * after the tour (for CI); otherwise it keeps running until Ctrl-C, which prints the drain report.
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { stripVTControlCharacters } from 'node:util';

const once = process.argv.includes('--once');
const port = Number(process.env.PORT ?? 3100);
const base = `http://127.0.0.1:${port}`;
const ORDERS = Number(process.env.DEMO_ORDERS ?? 300);
const EVENTS = Number(process.env.DEMO_EVENTS ?? 200);
const tty = process.stdout.isTTY === true;
const bold = (s: string) => (tty ? `\x1b[1m${s}\x1b[0m` : s);
const green = (s: string) => (tty ? `\x1b[32m${s}\x1b[0m` : s);
const red = (s: string) => (tty ? `\x1b[31m${s}\x1b[0m` : s);

mkdirSync('.demo', { recursive: true });
const appLog = createWriteStream('.demo/sample-app.log');
const appOutput: string[] = [];
const app = spawn(process.execPath, ['sample-app/dist/main.js'], {
  env: { ...process.env, PORT: String(port) },
  stdio: ['ignore', 'pipe', 'pipe'],
});
for (const stream of [app.stdout, app.stderr]) {
  stream.on('data', (chunk: Buffer) => {
    appLog.write(chunk);
    appOutput.push(...chunk.toString().split('\n').filter(Boolean));
  });
}
const appExited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
  app.on('exit', (code, signal) => resolve({ code, signal })),
);

async function http(
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown; text: string }> {
  const res = await fetch(base + path, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    /* /metrics is text */
  }
  return { status: res.status, json, text };
}

function bar(label: string, done: number, total: number): void {
  const width = 30;
  const filled = Math.round((done / total) * width);
  const line = `  ${label.padEnd(22)} [${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${String(done).padStart(4)}/${total}`;
  if (tty) process.stdout.write(`\r${line}`);
  else if (done === total || done % Math.ceil(total / 4) === 0) console.log(line);
  if (tty && done === total) process.stdout.write('\n');
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
    await sleep(200);
  }
}

/** Runs `count` calls with at most `concurrency` in flight, drawing the progress bar. */
async function drive(
  label: string,
  count: number,
  concurrency: number,
  call: (i: number) => Promise<number>,
): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  let done = 0;
  bar(label, 0, count);
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const status = await call(i).catch(() => 0);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        bar(label, ++done, count);
      }
    }),
  );
  return statuses;
}

type Stats = {
  orders: { published: number; consumed: number; audited: number };
  events: { sent: number; consumed: number; transactions: number };
};

function metricLines(text: string, names: string[]): string[] {
  return text.split('\n').filter((l) => !l.startsWith('#') && names.some((n) => l.startsWith(n)));
}

/** Stops the app like an orchestrator would (SIGTERM) and prints its drain report. True when it exited cleanly. */
async function stopApp(): Promise<boolean> {
  console.log(bold('\n▶ Stopping the app (SIGTERM): readiness down, pools drained'));
  app.kill('SIGTERM');
  const exit = await Promise.race([appExited, sleep(30_000).then(() => 'timeout' as const)]);
  if (exit === 'timeout') {
    app.kill('SIGKILL');
    console.log(red('  the app did not exit within 30 s of SIGTERM'));
    return false;
  }
  const report = appOutput.map(stripVTControlCharacters).find((l) => l.includes('pools drained'));
  if (report) {
    const json = report.slice(report.indexOf('{'));
    const { pools } = JSON.parse(json) as {
      pools: Array<{
        pool: string;
        broker: string;
        durationMs: number;
        report: { timedOut: boolean };
      }>;
    };
    console.log(`  ${report.slice(report.indexOf('message-broker'), report.indexOf('{')).trim()}`);
    for (const p of pools) {
      console.log(
        `  ${p.broker.padEnd(9)} pool "${p.pool}": drained in ${p.durationMs} ms${p.report.timedOut ? red(' (deadline hit)') : ''}`,
      );
    }
  } else {
    console.log(red('  no drain report in the app log'));
  }
  // Nest re-raises the signal after its shutdown hooks ran, so a clean stop ends by SIGTERM.
  return exit.code === 0 || exit.signal === 'SIGTERM';
}

async function tour(): Promise<void> {
  console.log(bold(`▶ Starting the sample app on ${base} (log: .demo/sample-app.log)`));
  await waitFor(
    'the app to listen',
    async () => (await http('GET', '/health/live')).status === 200,
    60_000,
  );
  await waitFor('readiness', async () => (await http('GET', '/health')).status === 200, 60_000);
  console.log(green('  ready: /health is up'));

  console.log(
    bold(`\n▶ Publishing ${ORDERS} orders to RabbitMQ (each resolves on the broker's confirm)`),
  );
  const orders = await drive(
    'POST /orders',
    ORDERS,
    16,
    async (i) =>
      (
        await http('POST', i % 10 === 0 ? '/orders/direct' : '/orders', {
          sku: `sku-${i % 7}`,
          quantity: 1 + (i % 3),
        })
      ).status,
  );
  console.log(
    `  statuses: ${[...orders].map(([s, n]) => `${s}×${n}`).join(', ')} (every 10th through ChannelInterceptor)`,
  );

  console.log(
    bold(
      `\n▶ Sending ${EVENTS} events to Kafka (idempotent producer, acks=-1) and 10 transfers in transactions`,
    ),
  );
  const events = await drive(
    'POST /events',
    EVENTS,
    16,
    async (i) => (await http('POST', '/events', { type: `demo.${i % 5}`, payload: { i } })).status,
  );
  const transfers = await drive(
    'POST /events/transfer',
    10,
    4,
    async (i) =>
      (
        await http('POST', '/events/transfer', {
          from: `acct-${i}`,
          to: `acct-${i + 1}`,
          amount: 10 + i,
        })
      ).status,
  );
  console.log(`  statuses: ${[...events, ...transfers].map(([s, n]) => `${s}×${n}`).join(', ')}`);

  console.log(bold('\n▶ Watching them being consumed'));
  let stats = (await http('GET', '/stats')).json as Stats;
  const deadline = Date.now() + 30_000;
  while (
    (stats.orders.consumed < stats.orders.published ||
      stats.orders.audited < stats.orders.published ||
      stats.events.consumed < stats.events.sent) &&
    Date.now() < deadline
  ) {
    await sleep(250);
    stats = (await http('GET', '/stats')).json as Stats;
  }
  console.log(
    `  orders  consumed ${stats.orders.consumed}/${stats.orders.published}, audited ${stats.orders.audited}/${stats.orders.published}`,
  );
  console.log(
    `  events  consumed ${stats.events.consumed}/${stats.events.sent}, transactions committed ${stats.events.transactions}`,
  );

  console.log(bold('\n▶ GET /health'));
  const health = await http('GET', '/health');
  console.log(`  HTTP ${health.status}`);
  for (const line of JSON.stringify(health.json, null, 2).split('\n').slice(0, 40))
    console.log(`  ${line}`);

  console.log(bold('\n▶ Key metrics from GET /metrics'));
  const metrics = await http('GET', '/metrics');
  const rows = metricLines(metrics.text, [
    'mq_pool_connections',
    'mq_pool_channels',
    'mq_pool_waiting',
    'mq_pool_acquire_seconds_count',
    'mq_publish_seconds_count',
    'mq_publish_seconds_sum',
    'mq_consume_total',
    'mq_pool_reconnects_total',
    'mq_pool_leaks_total',
  ]);
  const width = Math.max(...rows.map((r) => r.lastIndexOf(' ')));
  for (const row of rows) {
    const cut = row.lastIndexOf(' ');
    console.log(`  ${row.slice(0, cut).padEnd(width)}  ${row.slice(cut + 1)}`);
  }
  const ok =
    stats.orders.consumed >= ORDERS &&
    stats.orders.audited >= ORDERS &&
    stats.events.consumed >= EVENTS &&
    health.status === 200;
  console.log(ok ? green('\n✔ tour complete') : red('\n✘ tour incomplete: see above'));
  if (!ok) process.exitCode = 1;
}

try {
  await tour();
} catch (error) {
  console.error(red(`\n✘ ${(error as Error).message}`));
  console.error('  last lines of the app log:');
  for (const line of appOutput.slice(-20)) console.error(`  ${line}`);
  process.exitCode = 1;
}

if (once || process.exitCode === 1) {
  const clean = await stopApp();
  console.log(clean ? green('  the app exited cleanly') : red('  the app did not exit cleanly'));
  if (!clean) process.exitCode = 1;
} else {
  console.log(bold(`\nThe app keeps running on ${base} — try:`));
  console.log(
    `  curl -X POST ${base}/orders -H 'content-type: application/json' -d '{"sku":"book"}'`,
  );
  console.log(`  curl ${base}/health    curl ${base}/stats    curl ${base}/metrics`);
  console.log('Press Ctrl-C to stop it and see the drain report.');
  process.once('SIGINT', () => {
    void stopApp().then((clean) => process.exit(clean ? 0 : 1));
  });
}

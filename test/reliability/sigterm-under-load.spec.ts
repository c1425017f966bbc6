import type { ChannelModel } from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ORDER_CREATED_KEY,
  ORDERS_EXCHANGE,
  ORDERS_QUEUE,
} from '../../sample-app/src/sample-config.js';
import { kafkaBrokers } from '../support/broker-env.js';
import {
  createDisposableRabbitMq,
  isDisposableRabbitMqSupported,
  type DisposableRabbitMq,
} from '../support/disposable-rabbitmq.js';
import {
  adminConnection,
  queueDepth,
  uniqueName,
} from '../integration/rabbitmq/support/rabbitmq-admin.js';
import { type OrderOutcome, startOrderLoad } from './support/app-http-load.js';
import {
  buildSampleApp,
  freePort,
  type SampleAppProcess,
  startSampleApp,
} from './support/app-process.js';
import { recordFigure } from './support/figures.js';

/** `shutdown.drainTimeoutMs` of the sample app (sample-app/src/app.module.ts). */
const DRAIN_BUDGET_MS = 15_000;
const CONCURRENCY = 32;
/** Orders confirmed before the signal, so the load is in full swing when it arrives. */
const CREATED_BEFORE_SIGTERM = 300;

/**
 * Scenario 7: SIGTERM to the built sample app (a real child process, `node sample-app/dist/main.js`)
 * while 32 clients POST /orders. Every request must end as 201 (order confirmed by the broker), a
 * clear 503 (pool closing, with Retry-After), or a refused connect once the server stopped
 * listening; every 201 must be in RabbitMQ; the process must exit within the drain budget and log
 * its drain report.
 *
 * Where the orders are checked: the app's own consumer takes its queue, so the test binds a side
 * queue of its own to the app's exchange with the same routing key before the app starts. A
 * confirmed publish to a topic exchange is routed to both queues, so the side queue holds a copy of
 * every order the broker confirmed. The app runs against a disposable RabbitMQ node, so no other
 * test's orders mix in and nothing is left on the shared broker.
 */
describe.skipIf(!isDisposableRabbitMqSupported())('reliability #7: SIGTERM under HTTP load', () => {
  let node: DisposableRabbitMq;
  let admin: ChannelModel;
  let app: SampleAppProcess | undefined;
  const sideQueue = uniqueName('rel-sigterm-orders');

  beforeAll(async () => {
    node = await createDisposableRabbitMq({ label: 'sigterm' });
    await Promise.all([buildSampleApp(), node.start()]);
    admin = await adminConnection(node.url);
    const ch = await admin.createChannel();
    await ch.assertExchange(ORDERS_EXCHANGE, 'topic', { durable: true });
    await ch.assertQueue(sideQueue, { durable: true });
    await ch.bindQueue(sideQueue, ORDERS_EXCHANGE, ORDER_CREATED_KEY);
    await ch.close();
  }, 300_000);

  afterAll(async () => {
    app?.kill();
    await admin?.close().catch(() => undefined);
    await node?.dispose();
  }, 60_000);

  it('in-flight requests finish (201) or get a clear 503, every 201 is in the queue, exit within the drain budget, drain report logged', async () => {
    const port = await freePort();
    app = startSampleApp({ AMQP_URL: node.url, KAFKA_BROKERS: kafkaBrokers().join(',') }, port);
    await app.ready(90_000);

    const prefix = uniqueName('rel-sigterm');
    const load = startOrderLoad(app.base, CONCURRENCY, prefix);
    const loadStart = performance.now();
    const created = () => load.outcomes.filter((o) => o.kind === 'created').length;
    while (created() < CREATED_BEFORE_SIGTERM || performance.now() - loadStart < 1_000) {
      if (performance.now() - loadStart > 90_000) {
        throw new Error(`load did not get going: ${summarise(load.outcomes)}`);
      }
      await new Promise((r) => setTimeout(r, 20));
    }

    const sigtermAt = performance.now();
    app.child.kill('SIGTERM');
    const exit = await Promise.race([
      app.exited,
      new Promise<never>((_, reject) =>
        setTimeout(
          () => reject(new Error(`no exit within 60 s of SIGTERM:\n${app!.lines.join('\n')}`)),
          60_000,
        ),
      ),
    ]);
    const exitMs = exit.at - sigtermAt;
    load.stop();
    await load.done;

    const outcomes = load.outcomes;
    const byKind = (kind: OrderOutcome['kind']) => outcomes.filter((o) => o.kind === kind);
    const afterSignal = outcomes.filter((o) => o.endedAt > sigtermAt);
    const createdAfterSignal = afterSignal.filter((o) => o.kind === 'created').length;

    // What the broker holds: the side queue's copy of every confirmed order.
    const inQueue = new Map<string, string>(); // sku → messageId
    const ch = await admin.createChannel();
    for (;;) {
      const m = await ch.get(sideQueue, { noAck: true });
      if (m === false) break;
      const order = JSON.parse(m.content.toString()) as { id: string; sku: string };
      inQueue.set(order.sku, String(m.properties.messageId));
      expect(order.id).toBe(m.properties.messageId);
    }
    await ch.close();
    const leftForNextInstance = await queueDepth(admin, ORDERS_QUEUE);

    const log = app.lines.join('\n');
    const summary = summarise(outcomes);
    // The load straddled the signal: requests ended after it, as 201, 503 and refused.
    expect(afterSignal.length, summary).toBeGreaterThan(0);
    expect(byKind('refused').length, summary).toBeGreaterThan(0);
    // Every request: 201, a clear 503, or refused after the server closed.
    expect(byKind('other-status'), summary).toEqual([]);
    expect(byKind('error'), summary).toEqual([]);
    const reports = app.lines.filter((l) => l.includes('message-broker pools drained in'));
    expect(reports, log).toHaveLength(1);
    const drainMs = Number(/drained in (\d+)ms/.exec(reports[0]!)?.[1]);
    const perPool = drainDurations(reports[0]!);
    // Resets happen only when the HTTP server closes after the drain (connections accepted but not yet
    // read are dropped, like refused ones), at most one per client, and none of them placed an order
    // (checked below). The drain ends no earlier than SIGTERM + its own duration; 250 ms of slack for
    // the two processes' clocks and the signal's delivery.
    const resets = byKind('reset');
    expect(resets.length).toBeLessThanOrEqual(CONCURRENCY);
    expect(resets.filter((o) => o.endedAt < sigtermAt + drainMs - 250)).toEqual([]);
    for (const o of byKind('unavailable')) {
      expect(o.body?.['code']).toBe('MQ_POOL_CLOSED');
      expect(Number(o.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // Every 201 is a confirmed order in the queue, under the id the client was given.
    const missing = byKind('created').filter((o) => inQueue.get(o.sku) !== o.body?.['id']);
    expect(missing.map((o) => o.sku)).toEqual([]);
    // And no order reached the queue without its client being told 201.
    const createdSkus = new Set(byKind('created').map((o) => o.sku));
    const unanswered = [...inQueue.keys()].filter((sku) => !createdSkus.has(sku));
    expect(unanswered).toEqual([]);
    expect(resets.filter((o) => inQueue.has(o.sku))).toEqual([]);

    expect(exit.signal === 'SIGTERM' || exit.code === 0, `exit ${JSON.stringify(exit)}`).toBe(true);
    expect(exitMs).toBeLessThanOrEqual(DRAIN_BUDGET_MS);
    expect(reports[0]).not.toContain('deadline passed');
    expect(reports[0]).toMatch(/"broker":"rabbitmq"/);
    expect(reports[0]).toMatch(/"broker":"kafka"/);
    expect(log).not.toContain('guest:guest');
    expect(log).not.toMatch(/unhandled|uncaught/i);

    const figure = `${outcomes.length} requests by ${CONCURRENCY} clients: ${byKind('created').length}×201 (${createdAfterSignal} finished after SIGTERM), ${byKind('unavailable').length}×503, ${byKind('refused').length} refused + ${resets.length} reset at server close (none had placed an order), 0 other; ${createdSkus.size}/${createdSkus.size} confirmed orders in the queue (${leftForNextInstance} left unconsumed for the next instance); exit ${Math.round(exitMs)} ms after SIGTERM (drain ${drainMs} ms: ${perPool}; budget ${DRAIN_BUDGET_MS / 1000} s); drain report logged`;
    recordFigure({
      scenario: 7,
      title: 'SIGTERM to the sample app under HTTP load',
      expectation: `every request 201 or 503 (or refused/reset after close, unprocessed); every 201 in the queue; exit ≤ ${DRAIN_BUDGET_MS / 1000} s; drain report logged`,
      result: figure,
    });
  });
});

/** "rabbitmq 120 ms, kafka 3900 ms" from the drain report's JSON fields. */
function drainDurations(reportLine: string): string {
  try {
    const json = reportLine.slice(reportLine.indexOf('{'));
    const { pools } = JSON.parse(json) as { pools: { broker: string; durationMs: number }[] };
    return pools.map((p) => `${p.broker} ${p.durationMs} ms`).join(', ');
  } catch {
    return 'per-pool durations not parsable';
  }
}

function summarise(outcomes: readonly OrderOutcome[]): string {
  const counts = new Map<string, number>();
  for (const o of outcomes) {
    const key = o.kind === 'other-status' ? `status ${o.status}` : o.kind;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const examples = outcomes
    .filter((o) => o.kind !== 'created' && o.kind !== 'unavailable' && o.kind !== 'refused')
    .slice(0, 5)
    .map((o) => `${o.kind} ${o.status ?? ''} ${o.error ?? JSON.stringify(o.body)}`);
  return `${[...counts].map(([k, v]) => `${k}: ${v}`).join(', ')}${examples.length ? `; e.g. ${examples.join(' | ')}` : ''}`;
}

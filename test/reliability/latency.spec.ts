import {
  AcquireTimeoutError,
  ConfirmTimeoutError,
  ConnectionUnavailableError,
  PoolExhaustedError,
  type ChannelLease,
  type RabbitMqPool,
} from 'nestjs-mq-pool';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordFigure } from './support/figures.js';
import { settle, since, startProxyRig, type ProxyRig, type Settled } from './support/proxy-rig.js';
import { EARLY_TIMER_TOLERANCE_MS } from '../support/timer-precision.js';

/**
 * Scenario 4 (issue 8): 200 ms of added latency in each direction (every broker round trip takes 400 ms more).
 * Every operation with a deadline shorter than a round trip must fail at that deadline — not a round trip
 * later — with a typed error; queues and in-flight work stay within their bounds; with deadlines that allow
 * for the latency, everything completes.
 */
const LATENCY_MS = 200;
const RTT_MS = 2 * LATENCY_MS;
const DEADLINE_MS = 250;
/**
 * Timer and event-loop slack on a loaded 2-core machine; the figure prints the real overshoot. Half a round
 * trip: an operation that waited for the broker's answer instead of its deadline would overshoot by more.
 */
const SLACK_MS = 200;

describe('scenario 4: 200 ms latency — every deadline holds, in-flight work stays bounded', () => {
  let rig: ProxyRig;
  let tight: RabbitMqPool;
  let roomy: RabbitMqPool;
  const overshoots: Record<string, number> = {};

  beforeAll(async () => {
    rig = await startProxyRig('latency');
    rig.proxy.latency(LATENCY_MS);
  });
  afterAll(async () => {
    await rig?.dispose();
  });

  function overshoot(kind: string, ms: number, deadline: number): void {
    expect(ms, `${kind} failed before its deadline`).toBeGreaterThanOrEqual(
      deadline - EARLY_TIMER_TOLERANCE_MS,
    );
    expect(ms, `${kind} overshot its deadline`).toBeLessThanOrEqual(deadline + SLACK_MS);
    overshoots[kind] = Math.max(overshoots[kind] ?? -Infinity, Math.round(ms - deadline));
  }

  it('deadlines shorter than a round trip fail at the deadline, typed', async () => {
    tight = rig.pool(
      {
        connections: 1,
        consumerConnections: 0,
        channelsPerConnection: 4,
        maxWaiting: 8,
        acquireTimeoutMs: DEADLINE_MS,
        confirmTimeoutMs: DEADLINE_MS,
        connectTimeoutMs: 5_000,
      },
      'latency-tight',
    );
    const t0 = performance.now();
    await tight.start();
    const connectMs = since(t0);
    expect(connectMs).toBeGreaterThanOrEqual(RTT_MS);

    // Acquire needing a new channel (channel.open is one round trip).
    for (let i = 0; i < 3; i++) {
      const r = await settle(tight.acquire({ timeoutMs: DEADLINE_MS }));
      if (r.error === undefined) continue; // a channel from an earlier timed-out create was idle
      expect(r.error).toBeInstanceOf(AcquireTimeoutError);
      overshoot('acquire (channel open in flight)', r.ms, DEADLINE_MS);
    }
    expect(overshoots['acquire (channel open in flight)']).toBeDefined();

    // Saturated: all 4 leased (a generous deadline), 8 wait and time out, the 9th+ are refused at once.
    const leases: ChannelLease[] = [];
    for (let i = 0; i < 4; i++) leases.push(await tight.acquire({ timeoutMs: 5_000 }));
    let maxWaiting = 0;
    const sampler = setInterval(() => {
      maxWaiting = Math.max(maxWaiting, tight.stats().waiting);
      expect(tight.stats().channels.leased).toBeLessThanOrEqual(4);
    }, 10);
    const waits = Array.from({ length: 20 }, () =>
      settle(tight.acquire({ timeoutMs: DEADLINE_MS })),
    );
    const results = await Promise.all(waits);
    clearInterval(sampler);
    const exhausted = results.filter((r) => r.error instanceof PoolExhaustedError);
    const timedOut = results.filter((r) => r.error instanceof AcquireTimeoutError);
    expect(timedOut).toHaveLength(8);
    expect(exhausted).toHaveLength(12);
    for (const r of exhausted) expect(r.ms).toBeLessThan(50);
    for (const r of timedOut) overshoot('acquire (pool saturated)', r.ms, DEADLINE_MS);
    expect(maxWaiting).toBeLessThanOrEqual(8);
    expect(tight.health().healthy).toBe(true);
    for (const l of leases) l.release();

    // Health: health() is state only (no I/O, no latency); ping is bounded by its timeout.
    const h0 = performance.now();
    for (let i = 0; i < 100; i++) tight.health();
    const healthMs = since(h0) / 100;
    expect(healthMs).toBeLessThan(5);
    for (let i = 0; i < 3; i++) {
      const p = await settle(tight.ping(DEADLINE_MS));
      expect(p.error).toBeInstanceOf(ConnectionUnavailableError);
      overshoot('ping', p.ms, DEADLINE_MS);
      // Let the timed-out round trip finish: a ping issued meanwhile would share it (and its answer).
      await new Promise((resolve) => setTimeout(resolve, RTT_MS));
    }
    const pingOk = await settle(tight.ping(RTT_MS * 3));
    expect(pingOk.error).toBeUndefined();

    // Publish: written at once once the publishing channel exists; its confirm needs a round trip.
    const warmBy = Date.now() + 10_000;
    while (tight.stats().publisher.channels === 0 && Date.now() < warmBy) {
      await settle(tight.sendToQueue(rig.queue, { warm: true }));
    }
    expect(tight.stats().publisher.channels).toBe(1);
    for (let i = 0; i < 5; i++) {
      const r = await settle(tight.sendToQueue(rig.queue, { tight: i }));
      expect(r.error).toBeInstanceOf(ConfirmTimeoutError);
      overshoot('publish confirm', r.ms, DEADLINE_MS);
    }
    // The wait deadline of a publish (no publishing channel yet) is checked on the second pool.
    console.log(
      '[scenario 4] tight',
      JSON.stringify({ connectMs: Math.round(connectMs), healthMs, overshoots }),
    );
  });

  it('with deadlines that allow for the latency, everything completes and stays bounded', async () => {
    const MAX_IN_FLIGHT = 50;
    const MAX_WAITING = 100;
    roomy = rig.pool(
      {
        connections: 1,
        consumerConnections: 0,
        channelsPerConnection: 4,
        publishChannels: 1,
        maxInFlightPerChannel: MAX_IN_FLIGHT,
        maxWaiting: MAX_WAITING,
        acquireTimeoutMs: 10_000,
        confirmTimeoutMs: 10_000,
      },
      'latency-roomy',
    );
    await roomy.start();
    const before = (await rig.admin.createChannel().then(async (ch) => {
      const { messageCount } = await ch.checkQueue(rig.queue);
      await ch.close();
      return messageCount;
    })) as number;

    const peaks = { inFlight: 0, waiting: 0, leased: 0 };
    const sampler = setInterval(() => {
      const s = roomy.stats();
      peaks.inFlight = Math.max(peaks.inFlight, s.publisher.inFlight);
      peaks.waiting = Math.max(peaks.waiting, s.waiting);
      peaks.leased = Math.max(peaks.leased, s.channels.leased);
    }, 5);

    const t0 = performance.now();
    // First, a publish with a wait deadline shorter than opening the lane's channel (one round trip):
    // it fails at its deadline.
    const shortWait = settle(
      roomy.sendToQueue(rig.queue, { short: true }, { timeoutMs: DEADLINE_MS }),
    );
    // 20 exclusive leases for 4 channels, each doing one round trip (those that wait count against
    // the pool's one maxWaiting, with the publishes queued behind them).
    const leases = Array.from({ length: 20 }, () =>
      settle(roomy.withChannel((ch) => ch.checkQueue(rig.queue))),
    );
    // Meanwhile 400 publishes at once: 50 in flight, the next ones wait (bounded, together with the
    // waiting leases), the rest are refused at once.
    const publishes = Array.from({ length: 400 }, (_, i) =>
      settle(roomy.sendToQueue(rig.queue, { roomy: i })),
    );
    const [pub, lea, sw] = await Promise.all([
      Promise.all(publishes),
      Promise.all(leases),
      shortWait,
    ]);
    const tookMs = since(t0);
    // Five health probes at once share one round trip: one after another (amqplib runs one RPC at a
    // time per channel) they would take five.
    const pings: Settled[] = await Promise.all(
      Array.from({ length: 5 }, () => settle(roomy.ping(5 * RTT_MS))),
    );
    clearInterval(sampler);

    const ok = pub.filter((r) => r.error === undefined).length;
    const refused = pub.filter((r) => r.error instanceof PoolExhaustedError);
    expect(ok + refused.length).toBe(400);
    expect(ok).toBeGreaterThanOrEqual(MAX_IN_FLIGHT + MAX_WAITING - leases.length - 10);
    for (const r of refused) expect(r.ms).toBeLessThan(50);
    expect(lea.every((r) => r.error === undefined)).toBe(true);
    expect(pings.every((r) => r.error === undefined)).toBe(true);
    expect(Math.max(...pings.map((p) => p.ms))).toBeLessThan(2 * RTT_MS);
    expect(sw.error).toBeInstanceOf(AcquireTimeoutError);
    overshoot('publish wait', sw.ms, DEADLINE_MS);
    expect(peaks.inFlight).toBeLessThanOrEqual(MAX_IN_FLIGHT);
    // One bound for every waiting caller: lease waiters plus publishes waiting for the lane, ≤
    // maxWaiting — plus what the lane could take at once while its channel was still opening, and
    // the lane's own request for that channel.
    expect(peaks.waiting).toBeLessThanOrEqual(MAX_WAITING + MAX_IN_FLIGHT + 1);
    expect(peaks.leased).toBeLessThanOrEqual(4);

    const ch = await rig.admin.createChannel();
    const { messageCount } = await ch.checkQueue(rig.queue);
    await ch.close();
    expect(messageCount - before).toBe(ok);

    const result = {
      published: ok,
      refusedAtOnce: refused.length,
      withChannel: lea.length,
      tookMs: Math.round(tookMs),
      pingMs: pings.map((p) => Math.round(p.ms)),
      peaks,
      overshoots,
    };
    console.log('[scenario 4] roomy', JSON.stringify(result));
    const worst = Math.max(...Object.values(overshoots));
    recordFigure({
      scenario: 4,
      title: `+${LATENCY_MS} ms latency each way (round trip +${RTT_MS} ms)`,
      expectation:
        'acquire, publish and ping fail typed at their deadline; in-flight ≤ maxInFlightPerChannel, leased ≤ max, waiting bounded; everything completes with roomy deadlines',
      result:
        `max overshoot past a ${DEADLINE_MS} ms deadline ${worst} ms (` +
        Object.entries(overshoots)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') +
        `); peaks in-flight ${peaks.inFlight}/${MAX_IN_FLIGHT}, leased ${peaks.leased}/4, waiting ${peaks.waiting}; ` +
        `${ok} publishes + 20 withChannel completed in ${result.tookMs} ms, ${refused.length} refused at once (PoolExhaustedError)`,
    });
  });
});

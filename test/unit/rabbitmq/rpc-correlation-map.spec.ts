import { describe, expect, it } from 'vitest';
import { processHolders } from '../../../lib/core/keep-process-alive.js';
import { PendingRequest, RpcCorrelationMap } from '../../../lib/rabbitmq/rpc-correlation-map.js';
import { FakeClock } from '../core/support/fake-clock.js';

const request = (id: string, timeoutMs = 1_000, clock?: FakeClock): PendingRequest =>
  new PendingRequest(id, 'x', 'k', timeoutMs, clock?.now() ?? 0);

describe('RpcCorrelationMap', () => {
  it('hands each request to exactly one taker: the reply, or the deadline, never both', async () => {
    const clock = new FakeClock();
    const map = new RpcCorrelationMap(10, clock);
    const timedOut: string[] = [];
    const a = request('a');
    const b = request('b');
    map.add(a, (r) => timedOut.push(r.correlationId));
    map.add(b, (r) => timedOut.push(r.correlationId));
    expect(map.take('a')).toBe(a);
    expect(a.done).toBe(true);
    expect(map.take('a')).toBeUndefined(); // a second reply with the same id: nobody awaits it
    await clock.tick(1_000);
    expect(timedOut).toEqual(['b']);
    expect(b.done).toBe(true);
    expect(map.take('b')).toBeUndefined(); // the late reply finds nothing
    expect(map.size).toBe(0);
    expect(clock.pendingTimers()).toEqual([]);
  });

  it('ignores replies without a string correlation id', () => {
    const map = new RpcCorrelationMap(10, new FakeClock());
    map.add(request('1'), () => undefined);
    expect(map.take(undefined)).toBeUndefined();
    expect(map.take(1)).toBeUndefined();
    expect(map.size).toBe(1);
    map.takeAll();
  });

  it('is bounded: full at max, and adding beyond it is refused', () => {
    const map = new RpcCorrelationMap(2, new FakeClock());
    map.add(request('a'), () => undefined);
    expect(map.full).toBe(false);
    map.add(request('b'), () => undefined);
    expect(map.full).toBe(true);
    expect(() => map.add(request('c'), () => undefined)).toThrow(/more than 2/);
    map.take('a');
    expect(map.full).toBe(false);
    map.takeAll();
  });

  it('takeAll takes the selected requests only, their deadlines disarmed', async () => {
    const clock = new FakeClock();
    const map = new RpcCorrelationMap(10, clock);
    const channelA = {};
    const timedOut: string[] = [];
    const onA = ['1', '2'].map((id) => request(id));
    for (const r of onA) r.sentOn = channelA;
    const other = request('3');
    for (const r of [...onA, other]) map.add(r, (t) => timedOut.push(t.correlationId));
    expect(map.takeAll((r) => r.sentOn === channelA)).toEqual(onA);
    expect(map.size).toBe(1);
    await clock.tick(1_000);
    expect(timedOut).toEqual(['3']);
  });

  it('holds the process open while any request awaits its reply, and only then', () => {
    const map = new RpcCorrelationMap(10, new FakeClock());
    const base = processHolders();
    map.add(request('a'), () => undefined);
    map.add(request('b'), () => undefined);
    expect(processHolders()).toBe(base + 1);
    map.take('a');
    expect(processHolders()).toBe(base + 1);
    map.takeAll();
    expect(processHolders()).toBe(base);
  });

  it('arms an unref-ed deadline per request, so a settled request holds nothing', () => {
    const clock = new FakeClock();
    const map = new RpcCorrelationMap(10, clock);
    const r = request('a', 250, clock);
    map.add(r, () => undefined);
    expect(clock.pendingTimers()).toEqual([{ due: 250, ms: 250 }]);
    expect((r.timer as unknown as { unrefed: boolean }).unrefed).toBe(true);
    map.take('a');
    expect(clock.pendingTimers()).toEqual([]);
  });

  it('refuses a correlation id already in use', () => {
    const map = new RpcCorrelationMap(10, new FakeClock());
    map.add(request('a'), () => undefined);
    expect(() => map.add(request('a'), () => undefined)).toThrow(/in use/);
    map.takeAll();
  });
});

import { once } from 'node:events';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultProxy } from '../support/fault-proxy.js';

/** Test tooling tested on real loopback sockets: an echo server behind the proxy. */
describe('FaultProxy (real sockets, echo upstream)', () => {
  let echo: Server;
  let echoPort = 0;
  /** Bytes the echo server received, all connections. */
  let received = 0;
  const serverSockets = new Set<Socket>();
  let proxy: FaultProxy;
  const clients: Socket[] = [];

  beforeEach(async () => {
    received = 0;
    echo = createServer({ allowHalfOpen: true }, (s) => {
      serverSockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => serverSockets.delete(s));
      s.on('data', (d: Buffer) => {
        received += d.length;
        s.write(d);
      });
      s.on('end', () => s.end());
    });
    await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
    echoPort = (echo.address() as { port: number }).port;
    proxy = await FaultProxy.start({ upstreamPort: echoPort });
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.destroy();
    await proxy.close();
    for (const s of serverSockets) s.destroy();
    await new Promise<void>((resolve) => echo.close(() => resolve()));
  });

  async function connect(): Promise<Socket> {
    const socket = createConnection({ host: '127.0.0.1', port: proxy.port, allowHalfOpen: true });
    socket.on('error', () => undefined);
    clients.push(socket);
    await once(socket, 'connect');
    return socket;
  }

  /** Collects what the client reads. */
  function reader(socket: Socket): { bytes: () => Buffer } {
    const chunks: Buffer[] = [];
    socket.on('data', (d: Buffer) => chunks.push(d));
    return { bytes: () => Buffer.concat(chunks) };
  }

  async function until(cond: () => boolean, ms = 2_000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > end) throw new Error('condition not met in time');
      await new Promise((r) => setTimeout(r, 5));
    }
  }

  async function roundTrip(socket: Socket, payload = Buffer.from('ping')): Promise<number> {
    const started = performance.now();
    const got: Buffer[] = [];
    let n = 0;
    const onData = (d: Buffer) => {
      got.push(d);
      n += d.length;
    };
    socket.on('data', onData);
    socket.write(payload);
    await until(() => n >= payload.length);
    socket.off('data', onData);
    expect(Buffer.concat(got).equals(payload)).toBe(true);
    return performance.now() - started;
  }

  it('forwards both ways when clean, and counts connections and bytes', async () => {
    const c = await connect();
    expect(await roundTrip(c, Buffer.from('hello'))).toBeLessThan(100);
    await until(() => proxy.connections === 1);
    expect(proxy.stats()).toMatchObject({
      connections: 1,
      accepted: 1,
      bytes: { toUpstream: 5, toClient: 5 },
      dropped: { toUpstream: 0, toClient: 0 },
    });
    c.end();
    await until(() => proxy.connections === 0);
  });

  it('adds latency per direction or both, keeping byte order under jitter', async () => {
    const c = await connect();
    proxy.latency(60);
    const both = await roundTrip(c);
    expect(both).toBeGreaterThanOrEqual(115);
    proxy.heal().latency(60, { direction: 'toClient' });
    const one = await roundTrip(c);
    expect(one).toBeGreaterThanOrEqual(55);
    expect(one).toBeLessThan(both);

    proxy.heal().latency(5, { jitterMs: 30 });
    const r = reader(c);
    const payload = Buffer.from(Array.from({ length: 200 }, (_, i) => `${i},`).join(''));
    for (let i = 0; i < payload.length; i += 7) c.write(payload.subarray(i, i + 7));
    await until(() => r.bytes().length >= payload.length);
    expect(r.bytes().equals(payload)).toBe(true);
  });

  it('limits bandwidth', async () => {
    const c = await connect();
    proxy.bandwidth(200_000, { direction: 'toUpstream' });
    const took = await roundTrip(c, Buffer.alloc(60_000, 7));
    // 60 kB at 200 kB/s is 300 ms (first slice leaves after 5 ms of budget).
    expect(took).toBeGreaterThanOrEqual(280);
    expect(took).toBeLessThan(2_000);
  });

  it('blackhole: sockets stay open, bytes vanish both ways, no FIN or RST; heal() restores new connections', async () => {
    const c = await connect();
    await roundTrip(c);
    const before = received;
    let ended = false;
    let closed = false;
    c.on('end', () => (ended = true));
    c.on('close', () => (closed = true));
    const r = reader(c);
    proxy.blackhole();
    c.write('lost in the void');
    // The upstream closing its side is not passed on either.
    for (const s of serverSockets) s.end();
    await new Promise((res) => setTimeout(res, 250));
    expect(received).toBe(before);
    expect(r.bytes().length).toBe(0);
    expect(ended).toBe(false);
    expect(closed).toBe(false);
    expect(c.destroyed).toBe(false);
    expect(proxy.stats().dropped.toUpstream).toBe(16);

    proxy.heal();
    // The swallowed close reaches the client now, as an abort.
    await until(() => closed);
    const fresh = await connect();
    await roundTrip(fresh);
  });

  it('reset: aborts every connection with RST on both sides', async () => {
    const a = await connect();
    const b = await connect();
    await roundTrip(a);
    await roundTrip(b);
    const errors: string[] = [];
    for (const s of [a, b]) s.on('error', (e: NodeJS.ErrnoException) => errors.push(e.code ?? ''));
    const serverErrors: string[] = [];
    for (const s of serverSockets)
      s.on('error', (e: NodeJS.ErrnoException) => serverErrors.push(e.code ?? ''));
    expect(proxy.reset()).toBe(2);
    await until(() => errors.length === 2 && serverErrors.length === 2);
    expect(errors).toEqual(['ECONNRESET', 'ECONNRESET']);
    expect(serverErrors).toEqual(['ECONNRESET', 'ECONNRESET']);
    await until(() => proxy.connections === 0);
    expect(proxy.stats().resets).toBe(2);
  });

  it('halfOpen: client -> upstream keeps flowing, nothing comes back, the client sees no FIN', async () => {
    const c = await connect();
    await roundTrip(c);
    let ended = false;
    c.on('end', () => (ended = true));
    const r = reader(c);
    const before = received;
    proxy.halfOpen();
    c.write('still arrives');
    await until(() => received === before + 13);
    await new Promise((res) => setTimeout(res, 100));
    expect(r.bytes().length).toBe(0);
    expect(ended).toBe(false);
    expect(proxy.stats().dropped.toClient).toBe(13);
  });

  it('halfOpen with fin: the client gets a FIN (half-close) while its writes still reach the upstream', async () => {
    const c = await connect();
    await roundTrip(c);
    let ended = false;
    c.on('end', () => (ended = true));
    c.resume();
    const before = received;
    proxy.halfOpen({ fin: true });
    await until(() => ended);
    c.write('after fin');
    await until(() => received === before + 9);
  });

  it('refuse() resets new connections while current ones keep working; accept() lets them in again', async () => {
    const kept = await connect();
    proxy.refuse();
    const refused = createConnection({ host: '127.0.0.1', port: proxy.port });
    const error = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      refused.on('error', resolve);
      refused.on('close', () => resolve(undefined));
    });
    expect(error?.code).toBe('ECONNRESET');
    expect(proxy.stats().refused).toBe(1);
    await roundTrip(kept);
    proxy.accept();
    await roundTrip(await connect());
  });

  it('close() stops listening and destroys connections', async () => {
    const c = await connect();
    await roundTrip(c);
    await proxy.close();
    await until(() => c.destroyed);
    const late = createConnection({ host: '127.0.0.1', port: proxy.port });
    const error = await new Promise<NodeJS.ErrnoException>((resolve) => late.on('error', resolve));
    expect(error.code).toBe('ECONNREFUSED');
  });
});

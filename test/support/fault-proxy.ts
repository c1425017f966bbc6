import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A fault-injecting TCP proxy on loopback (Toxiproxy-style, test tooling only): clients connect to
 * `127.0.0.1:<port>`, every connection is forwarded to the upstream port, and faults are switched at
 * runtime. Faults are proxy-wide: they apply to current connections and to connections made later.
 *
 * Directions: `toUpstream` = bytes the client sends (client -> upstream), `toClient` = bytes the upstream
 * sends back (upstream -> client).
 *
 * Faults
 * - `latency(ms, { jitterMs, direction })`: each chunk is delivered `ms` (+ uniform [0, jitterMs)) after it
 *   was read; order is kept (TCP never reorders), so jitter only ever adds delay.
 * - `bandwidth(bytesPerSec, { direction })`: each direction of each connection is paced to this rate.
 * - `blackhole()`: sockets stay open, every byte either way is silently dropped (read and discarded, so
 *   neither sender sees back-pressure), no FIN and no RST is passed on — a dead path the endpoints can
 *   only notice by timeouts (heartbeats). Bytes dropped are gone: after `heal()` a surviving connection has
 *   a gap in its byte stream, as after a real outage, and endpoints normally close it.
 * - `halfOpen({ direction = 'toClient', fin = false })`: one direction dies while the other keeps flowing.
 *   Bytes in `direction` are silently dropped, the opposite direction is forwarded normally. So by default
 *   the client's writes still reach the upstream but nothing comes back, and no FIN/RST reaches the client
 *   (the client-side view of a peer that vanished). With `fin: true` the proxy also half-closes that
 *   direction (sends FIN to its receiver) while still reading from it — a TCP half-close.
 * - `reset()`: every current connection is aborted with a TCP RST on both sides (`resetAndDestroy`).
 * - `refuse()` / `accept()`: new connections are accepted and at once reset (RST) — the listener keeps
 *   its port, so `accept()` works again without a race for it.
 * - `heal()`: no latency, no bandwidth limit, no blackhole or half-open, accepting. Connections whose one side
 *   closed while its close could not be passed on (blackhole, half-open), or that were half-closed by
 *   `halfOpen({ fin: true })`, are then reset; others are left to their endpoints.
 */
export type FaultDirection = 'toUpstream' | 'toClient';

export interface FaultProxyStats {
  /** Proxied connections open now. */
  connections: number;
  /** Connections accepted and forwarded, all time. */
  accepted: number;
  /** Connections reset at once because of `refuse()`. */
  refused: number;
  /** Connections aborted by `reset()`. */
  resets: number;
  /** Bytes delivered, per direction. */
  bytes: Record<FaultDirection, number>;
  /** Bytes dropped by a blackhole or half-open, per direction. */
  dropped: Record<FaultDirection, number>;
}

export interface FaultProxyOptions {
  upstreamPort: number;
  /** Loopback only. */
  upstreamHost?: '127.0.0.1' | 'localhost';
}

interface DirectionFaults {
  latencyMs: number;
  jitterMs: number;
  /** 0 = unlimited. */
  bytesPerSec: number;
  drop: boolean;
  /** Half-close toward the receiver (FIN) while dropping. */
  fin: boolean;
}

const clean = (): DirectionFaults => ({
  latencyMs: 0,
  jitterMs: 0,
  bytesPerSec: 0,
  drop: false,
  fin: false,
});

/** Queued bytes per direction before the proxy stops reading from the sender (back-pressure). */
const HIGH_WATER = 256 * 1024;
const END = Symbol('end');

interface Pending {
  at: number;
  data: Buffer | typeof END;
}

/** One direction of one connection: reads from `from`, delivers to `to` on schedule. */
class Pipe {
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastAt = 0;
  private txFreeAt = 0;
  private paused = false;
  finSent = false;
  /** The sender's FIN was read but not passed on (dropping), or the receiver was gone. */
  endSwallowed = false;

  constructor(
    readonly direction: FaultDirection,
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly proxy: FaultProxy,
  ) {
    from.on('data', (chunk: Buffer) => this.read(chunk));
    from.on('end', () => this.readEnd());
    to.on('drain', () => this.resumeIfRoom());
  }

  private get faults(): DirectionFaults {
    return this.proxy.faultsOf(this.direction);
  }

  read(chunk: Buffer): void {
    const f = this.faults;
    if (f.drop) {
      this.proxy.counted(this.direction, 'dropped', chunk.length);
      return;
    }
    const now = Date.now();
    if (f.bytesPerSec > 0) {
      // Slices of ~20 ms each, so a big chunk trickles instead of arriving in one late burst.
      const slice = Math.max(1, Math.floor(f.bytesPerSec / 50));
      for (let i = 0; i < chunk.length; i += slice) {
        const part = chunk.subarray(i, i + slice);
        const start = Math.max(now, this.txFreeAt);
        this.txFreeAt = start + (part.length * 1000) / f.bytesPerSec;
        this.push(part, this.txFreeAt + this.delay(f));
      }
    } else {
      this.push(chunk, now + this.delay(f));
    }
  }

  private readEnd(): void {
    if (this.faults.drop) {
      this.endSwallowed = true;
      return;
    }
    this.push(END, Date.now() + this.delay(this.faults));
  }

  private delay(f: DirectionFaults): number {
    return f.latencyMs + (f.jitterMs > 0 ? Math.random() * f.jitterMs : 0);
  }

  private push(data: Buffer | typeof END, at: number): void {
    // Never earlier than what is already queued: delivery keeps the byte order.
    const when = Math.max(at, this.lastAt);
    this.lastAt = when;
    this.queue.push({ at: when, data });
    if (data !== END) {
      this.queuedBytes += data.length;
      if (this.queuedBytes > HIGH_WATER && !this.paused) {
        this.paused = true;
        this.from.pause();
      }
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    const head = this.queue[0] as Pending;
    const wait = head.at - Date.now();
    if (wait <= 0) {
      this.flush();
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, Math.ceil(wait));
  }

  private flush(): void {
    const now = Date.now();
    while (this.queue.length > 0 && (this.queue[0] as Pending).at <= now) {
      const { data } = this.queue.shift() as Pending;
      if (this.faults.drop) {
        // A blackhole switched on while bytes were queued: they are dropped too.
        if (data === END) this.endSwallowed = true;
        else {
          this.queuedBytes -= data.length;
          this.proxy.counted(this.direction, 'dropped', data.length);
        }
        continue;
      }
      if (data === END) {
        if (this.to.writable) this.to.end();
        else this.endSwallowed = true;
        continue;
      }
      this.queuedBytes -= data.length;
      if (!this.to.writable) continue;
      this.proxy.counted(this.direction, 'bytes', data.length);
      if (!this.to.write(data) && !this.paused) {
        this.paused = true;
        this.from.pause();
      }
    }
    this.resumeIfRoom();
    this.schedule();
  }

  private resumeIfRoom(): void {
    if (!this.paused || this.queuedBytes > HIGH_WATER || this.to.writableNeedDrain) return;
    this.paused = false;
    this.from.resume();
  }

  /** Drops what is queued (blackhole, reset). */
  clear(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    for (const p of this.queue) {
      if (p.data === END) this.endSwallowed = true;
      else this.proxy.counted(this.direction, 'dropped', p.data.length);
    }
    this.queue = [];
    this.queuedBytes = 0;
    this.resumeIfRoom();
  }

  /** Applies `fin` of a half-open: FIN to the receiver, reading goes on (and is dropped). */
  applyFin(): void {
    if (this.finSent || !this.faults.fin) return;
    this.finSent = true;
    if (this.to.writable) this.to.end();
  }
}

/** A client socket, its upstream socket, and the two pipes between them. */
class Pair {
  readonly toUpstream: Pipe;
  readonly toClient: Pipe;
  closedSides = 0;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    proxy: FaultProxy,
  ) {
    this.toUpstream = new Pipe('toUpstream', client, upstream, proxy);
    this.toClient = new Pipe('toClient', upstream, client, proxy);
  }

  get pipes(): readonly Pipe[] {
    return [this.toUpstream, this.toClient];
  }

  reset(): void {
    for (const p of this.pipes) p.clear();
    for (const s of [this.client, this.upstream]) abort(s);
  }
}

function abort(socket: Socket): void {
  if (socket.destroyed) return;
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

export class FaultProxy {
  private readonly server: Server;
  private readonly upstreamPort: number;
  private readonly upstreamHost: string;
  private readonly pairs = new Set<Pair>();
  private readonly faults: Record<FaultDirection, DirectionFaults> = {
    toUpstream: clean(),
    toClient: clean(),
  };
  private refusing = false;
  private closed = false;
  private readonly counters = {
    accepted: 0,
    refused: 0,
    resets: 0,
    bytes: { toUpstream: 0, toClient: 0 },
    dropped: { toUpstream: 0, toClient: 0 },
  };
  port = 0;

  private constructor(options: FaultProxyOptions) {
    this.upstreamPort = options.upstreamPort;
    this.upstreamHost = options.upstreamHost ?? '127.0.0.1';
    // allowHalfOpen: a FIN from one side is passed on as a FIN, not turned into a full close.
    this.server = createServer({ allowHalfOpen: true, noDelay: true }, (client) =>
      this.onClient(client),
    );
  }

  /** Listens on a free loopback port. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.server.once('error', reject);
      proxy.server.listen(0, '127.0.0.1', () => {
        proxy.server.off('error', reject);
        resolve();
      });
    });
    const address = proxy.server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy has no TCP port');
    proxy.port = address.port;
    return proxy;
  }

  /** `url` with host and port replaced by this proxy's (credentials and path kept). */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  latency(ms: number, opts: { jitterMs?: number; direction?: FaultDirection } = {}): this {
    for (const f of this.selected(opts.direction)) {
      f.latencyMs = ms;
      f.jitterMs = opts.jitterMs ?? 0;
    }
    return this;
  }

  bandwidth(bytesPerSec: number, opts: { direction?: FaultDirection } = {}): this {
    if (!(bytesPerSec > 0))
      throw new RangeError('bytesPerSec must be > 0; heal() removes the limit');
    for (const f of this.selected(opts.direction)) f.bytesPerSec = bytesPerSec;
    return this;
  }

  blackhole(): this {
    for (const f of this.selected(undefined)) f.drop = true;
    for (const pair of this.pairs) for (const p of pair.pipes) p.clear();
    return this;
  }

  halfOpen(opts: { direction?: FaultDirection; fin?: boolean } = {}): this {
    const direction = opts.direction ?? 'toClient';
    const f = this.faults[direction];
    f.drop = true;
    f.fin = opts.fin ?? false;
    for (const pair of this.pairs) {
      const pipe = direction === 'toClient' ? pair.toClient : pair.toUpstream;
      pipe.clear();
      pipe.applyFin();
    }
    return this;
  }

  /** Aborts every current connection with RST on both sides; returns how many. */
  reset(): number {
    const n = this.pairs.size;
    this.counters.resets += n;
    for (const pair of [...this.pairs]) pair.reset();
    return n;
  }

  refuse(): this {
    this.refusing = true;
    return this;
  }

  accept(): this {
    this.refusing = false;
    return this;
  }

  heal(): this {
    this.faults.toUpstream = clean();
    this.faults.toClient = clean();
    this.refusing = false;
    for (const pair of [...this.pairs]) {
      // A close that could not be passed on while dropping: the other side learns it now (as a reset).
      if (pair.closedSides > 0 || pair.pipes.some((p) => p.endSwallowed || p.finSent)) {
        this.counters.resets++;
        pair.reset();
      }
    }
    return this;
  }

  get connections(): number {
    return this.pairs.size;
  }

  stats(): FaultProxyStats {
    const c = this.counters;
    return {
      connections: this.pairs.size,
      accepted: c.accepted,
      refused: c.refused,
      resets: c.resets,
      bytes: { ...c.bytes },
      dropped: { ...c.dropped },
    };
  }

  /** Stops listening and destroys every connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const pair of [...this.pairs]) pair.reset();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** @internal for pipes */
  faultsOf(direction: FaultDirection): DirectionFaults {
    return this.faults[direction];
  }

  /** @internal for pipes */
  counted(direction: FaultDirection, what: 'bytes' | 'dropped', n: number): void {
    this.counters[what][direction] += n;
  }

  private selected(direction: FaultDirection | undefined): DirectionFaults[] {
    return direction === undefined
      ? [this.faults.toUpstream, this.faults.toClient]
      : [this.faults[direction]];
  }

  private holding(): boolean {
    return this.faults.toUpstream.drop || this.faults.toClient.drop;
  }

  private onClient(client: Socket): void {
    client.on('error', () => undefined);
    if (this.refusing || this.closed) {
      this.counters.refused++;
      abort(client);
      return;
    }
    this.counters.accepted++;
    const upstream = createConnection({
      host: this.upstreamHost,
      port: this.upstreamPort,
      allowHalfOpen: true,
      noDelay: true,
    });
    upstream.on('error', () => undefined);
    const pair = new Pair(client, upstream, this);
    this.pairs.add(pair);
    for (const p of pair.pipes) p.applyFin();
    const onClose = (peer: Socket) => (hadError: boolean) => {
      pair.closedSides++;
      if (pair.closedSides === 2) {
        this.pairs.delete(pair);
        return;
      }
      // An abort (RST, error) is passed on as an abort, unless the path is dropping: then it waits for heal().
      if (hadError && !this.holding()) abort(peer);
    };
    client.on('close', onClose(upstream));
    upstream.on('close', onClose(client));
  }
}

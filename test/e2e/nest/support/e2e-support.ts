import { randomBytes } from 'node:crypto';
import net from 'node:net';
import amqp, { type ChannelModel } from 'amqplib';
import type { MqLogger } from '../../../../lib/index.js';
import { amqpUrl } from '../../../support/broker-env.js';

export { amqpUrl };
export { kafkaBrokers } from '../../../support/broker-env.js';

/** A unique name per test run, so tests never collide on the shared broker. */
export function unique(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** A raw amqplib connection for test setup and assertions (queue declare/inspect/delete). */
export async function rawRabbit(): Promise<{ model: ChannelModel; close(): Promise<void> }> {
  const model = await amqp.connect(amqpUrl());
  model.on('error', () => undefined);
  return { model, close: () => model.close().catch(() => undefined) };
}

export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = 'condition',
): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error(`${what} not met within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Collects log lines; also proves nothing secret is logged. */
export function memoryLogger(): MqLogger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) =>
    lines.push(
      `${level} ${message}${fields ? ` ${JSON.stringify(fields, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v instanceof Error ? v.message : v))}` : ''}`,
    );
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A port nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

/**
 * A loopback TCP proxy to the broker that can turn into a blackhole: bytes stop flowing both ways
 * while the sockets stay open, so the client sees a silent broker (not a closed connection).
 */
export class BlackholeProxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private holing = false;
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.target);
      this.sockets.add(client).add(upstream);
      client.on('error', () => undefined);
      upstream.on('error', () => undefined);
      client.on('data', (b) => {
        if (!this.holing) upstream.write(b);
      });
      upstream.on('data', (b) => {
        if (!this.holing) client.write(b);
      });
      const end = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('close', end);
      // Hide the upstream's close while holing: a blackhole never says goodbye.
      upstream.on('close', () => {
        if (!this.holing) end();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this;
  }

  blackhole(): void {
    this.holing = true;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** `amqp://user:pass@host:port/vhost` with another host:port, credentials kept. */
export function amqpUrlVia(port: number): string {
  const url = new URL(amqpUrl());
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return url.toString();
}

export function brokerAddress(): { host: string; port: number } {
  const url = new URL(amqpUrl());
  return { host: url.hostname, port: Number(url.port || 5672) };
}

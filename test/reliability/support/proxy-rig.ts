import type { Channel, ChannelModel } from 'amqplib';
import amqp from 'amqplib';
import { RabbitMqPool, type RabbitMqPoolOptions } from 'nestjs-mq-pool';
import type { MqLogger } from '../../../lib/core/logger.js';
import { amqpUrl } from '../../support/broker-env.js';
import { FaultProxy } from '../../support/fault-proxy.js';
import { uniqueName } from '../../integration/rabbitmq/support/rabbitmq-admin.js';

/**
 * The pool under test reaches the shared broker only through a FaultProxy on a free loopback port; the
 * test's own admin connection goes direct. Faults live in the proxy, so the shared broker is never harmed;
 * the rig declares one durable queue with a unique name and deletes it on `dispose()`.
 */
export interface ProxyRig {
  readonly proxy: FaultProxy;
  readonly admin: ChannelModel;
  readonly queue: string;
  /** A pool whose URL points at the proxy; closed by `dispose()`. */
  pool(options?: Omit<RabbitMqPoolOptions, 'url'>, name?: string): RabbitMqPool;
  readonly logger: CapturingLogger;
  /** Every message in the queue (read directly, no ack needed), by messageId. */
  readQueue(): Promise<Map<string, number>>;
  dispose(): Promise<void>;
}

export interface CapturingLogger extends MqLogger {
  readonly lines: Array<{ level: string; message: string; fields: Record<string, unknown> }>;
}

/** Keeps log lines for assertions; VERBOSE=1 prints them. */
export function capturingLogger(): CapturingLogger {
  const lines: CapturingLogger['lines'] = [];
  const log =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      lines.push({ level, message, fields: fields ?? {} });
      if (process.env.VERBOSE) console.log(level, message, fields ?? '');
    };
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export async function startProxyRig(prefix: string): Promise<ProxyRig> {
  const direct = amqpUrl();
  const upstream = new URL(direct);
  if (upstream.hostname !== '127.0.0.1' && upstream.hostname !== 'localhost') {
    throw new Error('the fault proxy only forwards to a loopback broker');
  }
  const proxy = await FaultProxy.start({ upstreamPort: Number(upstream.port || 5672) });
  const admin = await amqp.connect(direct);
  admin.on('error', () => undefined);
  const queue = uniqueName(`${prefix}-q`);
  const setup = await admin.createChannel();
  await setup.assertQueue(queue, { durable: true });
  await setup.close();
  const pools: RabbitMqPool[] = [];
  const logger = capturingLogger();

  return {
    proxy,
    admin,
    queue,
    logger,
    pool(options = {}, name = prefix) {
      const pool = new RabbitMqPool(
        { ...options, url: proxy.urlFor(direct), connectionName: uniqueName(`rel-${prefix}`) },
        { name, logger },
      );
      pools.push(pool);
      return pool;
    },
    readQueue: () => readAll(admin, queue),
    async dispose() {
      await Promise.all(pools.map((p) => p.close().catch(() => undefined)));
      await proxy.close();
      const ch = await admin.createChannel();
      await ch.deleteQueue(queue).catch(() => undefined);
      await admin.close().catch(() => undefined);
    },
  };
}

/** Drains the queue with a no-ack consumer until its depth is read; counts copies per messageId. */
async function readAll(admin: ChannelModel, queue: string): Promise<Map<string, number>> {
  const ch: Channel = await admin.createChannel();
  try {
    const { messageCount } = await ch.checkQueue(queue);
    const counts = new Map<string, number>();
    if (messageCount === 0) return counts;
    let seen = 0;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`read ${seen} of ${messageCount} messages in 60 s`)),
        60_000,
      );
      void ch
        .consume(
          queue,
          (msg) => {
            if (!msg) return;
            const id = String(msg.properties.messageId);
            counts.set(id, (counts.get(id) ?? 0) + 1);
            if (++seen === messageCount) {
              clearTimeout(timer);
              resolve();
            }
          },
          { noAck: true },
        )
        .catch(reject);
    });
    return counts;
  } finally {
    await ch.close().catch(() => undefined);
  }
}

/** Milliseconds since `t0` (performance clock). */
export function since(t0: number): number {
  return performance.now() - t0;
}

/** How a call ended (its error, if any) and after how long; a lease it resolved to is released. */
export interface Settled {
  error: unknown;
  ms: number;
}

export async function settle(work: Promise<unknown>): Promise<Settled> {
  const t = performance.now();
  try {
    const value = await work;
    if (value && typeof (value as { release?: unknown }).release === 'function') {
      (value as { release(): void }).release();
    }
    return { error: undefined, ms: since(t) };
  } catch (error) {
    return { error, ms: since(t) };
  }
}

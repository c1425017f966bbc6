import type { Channel, ChannelModel, GetMessage } from 'amqplib';
import { adminConnection, eventually } from './rabbitmq-admin.js';

/**
 * Queues and exchanges a test lets the library declare (handler, delay and dead-letter queues,
 * topology), deleted at the end through the test's own admin connection.
 */
export class DeclaredEntities {
  private readonly queues = new Set<string>();
  private readonly exchanges = new Set<string>();
  private conn: ChannelModel | undefined;

  async open(url: string): Promise<void> {
    this.conn = await adminConnection(url);
  }

  get admin(): ChannelModel {
    if (!this.conn) throw new Error('DeclaredEntities: call open() in beforeAll first');
    return this.conn;
  }

  queue(...names: string[]): void {
    for (const n of names) this.queues.add(n);
  }

  exchange(...names: string[]): void {
    for (const n of names) this.exchanges.add(n);
  }

  /** Runs `fn` on a fresh admin channel; a broker refusal (404/406) closes only that channel. */
  async withChannel<T>(fn: (ch: Channel) => Promise<T>): Promise<T> {
    const ch = await this.admin.createChannel();
    ch.on('error', () => undefined);
    try {
      return await fn(ch);
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  /** True when the queue exists on the broker. */
  queueExists(name: string): Promise<boolean> {
    return this.withChannel((ch) => ch.checkQueue(name).then(() => true)).catch(() => false);
  }

  exchangeExists(name: string): Promise<boolean> {
    return this.withChannel((ch) => ch.checkExchange(name).then(() => true)).catch(() => false);
  }

  /** The next message of `queue` (acked), waiting up to `timeoutMs`. */
  async take(queue: string, timeoutMs = 5_000): Promise<GetMessage | undefined> {
    let got: GetMessage | undefined;
    await eventually(async () => {
      got = await this.withChannel(async (ch) => {
        const m = await ch.get(queue, { noAck: true });
        return m === false ? undefined : m;
      });
      return got !== undefined;
    }, timeoutMs);
    return got;
  }

  async close(): Promise<void> {
    if (!this.conn) return;
    await this.withChannel(async (ch) => {
      for (const q of this.queues) await ch.deleteQueue(q).catch(() => undefined);
    });
    await this.withChannel(async (ch) => {
      for (const x of this.exchanges) await ch.deleteExchange(x).catch(() => undefined);
    });
    await this.conn.close().catch(() => undefined);
    this.conn = undefined;
  }
}

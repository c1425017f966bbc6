import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import amqp from 'amqplib';
import type { ChannelModel } from 'amqplib';
import type { MqLogger } from '../../../../lib/core/logger.js';

const run = promisify(execFile);

/** Unique names per test, so parallel runs and leftovers never collide. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

/** `rabbitmqctl [-n node] ...args`, quiet, JSON where asked. */
export async function rabbitmqctl(args: string[], node?: string): Promise<string> {
  const { stdout } = await run('rabbitmqctl', [...(node ? ['-n', node] : []), '-q', ...args], {
    timeout: 60_000,
  });
  return stdout;
}

/** Why the tests that administer the broker with rabbitmqctl skip when it is not available. */
export const NO_RABBITMQCTL =
  'rabbitmqctl cannot reach the broker under test (not a local Debian rabbitmq-server node run as root)';

/** True when this machine can administer the broker under test with rabbitmqctl (local node). */
export async function rabbitmqctlAvailable(): Promise<boolean> {
  try {
    await rabbitmqctl(['list_connections', 'name']);
    return true;
  } catch {
    return false;
  }
}

interface ConnectionRow {
  pid: string;
  name: string;
  connectionName: string;
}

/** Broker-side connections whose `connection_name` client property starts with `prefix`. */
export async function connectionsNamed(prefix: string, node?: string): Promise<ConnectionRow[]> {
  // JSON for the client properties; the tab format for the pid in the syntax close_connection accepts.
  const [json, tabs] = await Promise.all([
    rabbitmqctl(['list_connections', 'name', 'client_properties', '--formatter', 'json'], node),
    rabbitmqctl(['list_connections', 'pid', 'name'], node),
  ]);
  const pids = new Map<string, string>();
  for (const line of tabs.split('\n').slice(1)) {
    const [pid, name] = line.split('\t');
    if (pid && name) pids.set(name, pid);
  }
  const rows = JSON.parse(json.trim() || '[]') as Array<{
    name: string;
    client_properties: Array<[string, string, unknown]>;
  }>;
  return rows
    .map((r) => ({
      pid: pids.get(r.name) ?? '',
      name: r.name,
      connectionName: String(
        r.client_properties.find((p) => p[0] === 'connection_name')?.[2] ?? '',
      ),
    }))
    .filter((r) => r.connectionName.startsWith(prefix) && r.pid !== '');
}

/** Force-closes (broker side, like an operator or a failover) the connections named with `prefix`. */
export async function closeConnectionsNamed(prefix: string, node?: string): Promise<number> {
  const conns = await connectionsNamed(prefix, node);
  await Promise.all(
    conns.map((c) => rabbitmqctl(['close_connection', c.pid, 'test: forced close'], node)),
  );
  return conns.length;
}

/** Channels the broker has open right now (live enumeration) on connections named with `prefix`. */
export async function channelsOpenOn(prefix: string, node?: string): Promise<number> {
  const conns = await connectionsNamed(prefix, node);
  if (conns.length === 0) return 0;
  const out = await rabbitmqctl(['list_channels', 'name', '--formatter', 'json'], node);
  const rows = JSON.parse(out.trim() || '[]') as Array<{ name: string }>;
  return rows.filter((ch) => conns.some((c) => ch.name.startsWith(`${c.name} (`))).length;
}

/** An admin connection of the test itself (not the pool under test) for declarations and checks. */
export async function adminConnection(url: string): Promise<ChannelModel> {
  const conn = await amqp.connect(url);
  conn.on('error', () => undefined);
  return conn;
}

export async function queueDepth(admin: ChannelModel, queue: string): Promise<number> {
  const ch = await admin.createChannel();
  try {
    return (await ch.checkQueue(queue)).messageCount;
  } finally {
    await ch.close().catch(() => undefined);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every 50 ms until true or `timeoutMs`; returns whether it became true. */
export async function eventually(
  condition: () => boolean | Promise<boolean>,
  timeoutMs: number,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await condition()) return true;
    await sleep(50);
  }
  return condition();
}

/** Captures log lines; VERBOSE=1 prints them. */
export function testLogger(): MqLogger & { lines: string[] } {
  const lines: string[] = [];
  const log =
    (level: string) =>
    (message: string, fields?: Record<string, unknown>): void => {
      const line = `${level} ${message} ${fields ? JSON.stringify(fields, (_k, v: unknown) => (v instanceof Error ? v.message : v)) : ''}`;
      lines.push(line);
      if (process.env.VERBOSE) console.log(line);
    };
  return { lines, debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

/**
 * The durable queues one test file declares (unique names) through its admin connection, all
 * deleted at the end: `const queues = new TestQueues('cons-q')`, `queues.open(url)` in
 * beforeAll, `await queues.fresh()` per test, `queues.close()` in afterAll.
 */
export class TestQueues {
  private readonly names: string[] = [];
  private conn: ChannelModel | undefined;

  constructor(private readonly prefix: string) {}

  /** The admin connection (for checks such as `queueDepth`); throws before `open()`. */
  get admin(): ChannelModel {
    if (!this.conn) throw new Error('TestQueues: call open() in beforeAll first');
    return this.conn;
  }

  async open(url: string): Promise<void> {
    this.conn = await adminConnection(url);
  }

  async fresh(args: Record<string, unknown> = {}): Promise<string> {
    const queue = uniqueName(this.prefix);
    const ch = await this.admin.createChannel();
    await ch.assertQueue(queue, { durable: true, arguments: args });
    await ch.close();
    this.names.push(queue);
    return queue;
  }

  /** Deletes every queue declared here, then closes the admin connection. */
  async close(): Promise<void> {
    if (!this.conn) return;
    const ch = await this.conn.createChannel();
    for (const queue of this.names) await ch.deleteQueue(queue).catch(() => undefined);
    await this.conn.close();
    this.conn = undefined;
  }
}

import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { copyFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll } from 'vitest';
import { runningAsRoot } from './skip-reasons.js';

const run = promisify(execFile);

/**
 * A second, throw-away RabbitMQ node beside the shared one, for destructive tests (kill -9, outages).
 * It has its own node name, ports (AMQP + Erlang distribution), data/log dirs, config and pid file, listens
 * on loopback only, and runs as the `rabbitmq` user (Debian's wrapper re-runs the server as that user when
 * started as root, so its directories are owned by it). It never touches the shared node.
 */
export interface DisposableRabbitMq {
  readonly nodename: string;
  readonly port: number;
  readonly url: string;
  /** Port of the TLS (AMQPS) listener when created with `tls`, else undefined. */
  readonly tlsPort: number | undefined;
  /** Boots the node (first boot ~6 s) and waits until it accepts work. */
  start(): Promise<void>;
  /** SIGKILL of the Erlang VM: every connection drops at once, like a crash. Resolves once the port refuses. */
  kill9(): Promise<void>;
  /** Graceful stop. */
  stop(): Promise<void>;
  /** `rabbitmqctl -n <node> ...args`, returns stdout. */
  ctl(...args: string[]): Promise<string>;
  /**
   * Forces the node's metadata store (Mnesia) to disk. Definitions such as a durable queue declared a moment
   * before a kill -9 can otherwise still sit in Mnesia's delayed-write log buffer (up to ~2 s) and be lost —
   * a broker property, not a client one. Confirmed persistent messages are fsynced before their confirm anyway.
   */
  syncMetadata(): Promise<void>;
  /** Kills the node and deletes its directories. Idempotent. */
  dispose(): Promise<void>;
}

/** Live nodes and their pid files, for the exit hook. */
const live = new Map<DisposableRabbitMq, string>();
let exitHookInstalled = false;

/** Called where a suite decides to skip: records the reason for the run's skip summary. */
export function isDisposableRabbitMqSupported(): boolean {
  return runningAsRoot(
    "disposable RabbitMQ nodes run Debian's rabbitmq-server, which starts only as root; run npm test as root",
  );
}

/** PEM files for the node's TLS listener (copied into the node's own directory, readable by `rabbitmq`). */
export interface DisposableRabbitMqTls {
  readonly cacertfile: string;
  readonly certfile: string;
  readonly keyfile: string;
}

export interface DisposableRabbitMqOptions {
  label?: string;
  /** Extra `rabbitmq.conf` lines, e.g. `max_message_size = 1048576`. */
  extraConfig?: readonly string[];
  /** Adds an AMQPS listener on 127.0.0.1 (free port, see `tlsPort`); no client certificate required. */
  tls?: DisposableRabbitMqTls;
}

/**
 * A node for the enclosing `describe`: created and started in `beforeAll`, disposed in `afterAll`.
 * Returns a getter, since the node exists only once `beforeAll` ran.
 */
export function useDisposableRabbitMq(
  opts: DisposableRabbitMqOptions = {},
): () => DisposableRabbitMq {
  let node: DisposableRabbitMq | undefined;
  beforeAll(async () => {
    node = await createDisposableRabbitMq(opts);
    await node.start();
  }, 180_000);
  afterAll(async () => {
    await node?.dispose();
  }, 60_000);
  return () => {
    if (!node) throw new Error('the disposable RabbitMQ node is not started (beforeAll failed?)');
    return node;
  };
}

export async function createDisposableRabbitMq(
  opts: DisposableRabbitMqOptions = {},
): Promise<DisposableRabbitMq> {
  if (!isDisposableRabbitMqSupported()) {
    throw new Error(
      'a disposable RabbitMQ node needs root on Linux (it runs the server as the rabbitmq user)',
    );
  }
  const id = `mqpool${opts.label ?? ''}${randomBytes(3).toString('hex')}`;
  const nodename = `${id}@localhost`;
  const base = join(tmpdir(), 'mq-pool-rabbit', id);
  const [port, distPort, tlsPort] = (await freePorts(opts.tls ? 3 : 2)) as [
    number,
    number,
    number | undefined,
  ];
  const dirs = { mnesia: join(base, 'mnesia'), log: join(base, 'log') };
  await mkdir(dirs.mnesia, { recursive: true });
  await mkdir(dirs.log, { recursive: true });
  const pidFile = join(base, 'node.pid');
  const configFile = join(base, 'rabbitmq.conf');
  const pluginsFile = join(base, 'enabled_plugins');
  const envFile = join(base, 'rabbitmq-env.conf');
  const tlsLines: string[] = [];
  if (opts.tls && tlsPort !== undefined) {
    const tlsDir = join(base, 'tls');
    await mkdir(tlsDir, { recursive: true });
    for (const key of ['cacertfile', 'certfile', 'keyfile'] as const) {
      const target = join(tlsDir, `${key}.pem`);
      await copyFile(opts.tls[key], target);
      tlsLines.push(`ssl_options.${key} = ${target}`);
    }
    tlsLines.push(
      `listeners.ssl.default = 127.0.0.1:${tlsPort}`,
      'ssl_options.verify = verify_none',
      'ssl_options.fail_if_no_peer_cert = false',
    );
  }
  await writeFile(
    configFile,
    [
      `listeners.tcp.1 = 127.0.0.1:${port}`,
      'disk_free_limit.absolute = 10MB',
      'log.console = false',
      ...tlsLines,
      ...(opts.extraConfig ?? []),
      '',
    ].join('\n'),
  );
  await writeFile(pluginsFile, '[].\n');
  // An empty env file: the shared node's /etc/rabbitmq/rabbitmq-env.conf (NODENAME=rabbit@localhost) must not apply.
  await writeFile(envFile, '');
  await run('chown', ['-R', 'rabbitmq:rabbitmq', join(tmpdir(), 'mq-pool-rabbit')]);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    RABBITMQ_NODENAME: nodename,
    RABBITMQ_NODE_IP_ADDRESS: '127.0.0.1',
    RABBITMQ_NODE_PORT: String(port),
    RABBITMQ_DIST_PORT: String(distPort),
    RABBITMQ_MNESIA_BASE: dirs.mnesia,
    RABBITMQ_LOG_BASE: dirs.log,
    RABBITMQ_PID_FILE: pidFile,
    RABBITMQ_ENABLED_PLUGINS_FILE: pluginsFile,
    RABBITMQ_CONFIG_FILE: configFile,
    RABBITMQ_CONF_ENV_FILE: envFile,
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
  };

  const ctl = async (...args: string[]): Promise<string> => {
    const { stdout } = await run('rabbitmqctl', ['-n', nodename, ...args], {
      env,
      timeout: 90_000,
    });
    return stdout;
  };

  const readPid = async (): Promise<number | undefined> => {
    try {
      const pid = Number.parseInt((await readFile(pidFile, 'utf8')).trim(), 10);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  };

  let disposed = false;
  const node: DisposableRabbitMq = {
    nodename,
    port,
    url: `amqp://guest:guest@127.0.0.1:${port}`,
    tlsPort,
    async start() {
      await rm(pidFile, { force: true });
      await run('rabbitmq-server', ['-detached'], { env, timeout: 30_000 });
      await ctl('wait', '--timeout', '90', pidFile);
      await ctl('await_startup', '--timeout', '90');
    },
    async kill9() {
      const pid = await readPid();
      if (pid !== undefined) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      const until = Date.now() + 15_000;
      while (Date.now() < until && (await portOpen(port))) await delay(50);
    },
    async stop() {
      await ctl('stop').catch(() => undefined);
      const until = Date.now() + 15_000;
      while (Date.now() < until && (await portOpen(port))) await delay(50);
    },
    ctl,
    async syncMetadata() {
      await ctl('eval', 'mnesia:sync_log().');
    },
    async dispose() {
      if (disposed) return;
      disposed = true;
      live.delete(node);
      await node.kill9();
      await rm(base, { recursive: true, force: true });
    },
  };
  live.set(node, pidFile);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    // Last resort if a test run dies without dispose(): never leave a node behind.
    process.once('exit', () => {
      for (const file of live.values()) {
        try {
          const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
          if (pid > 0) process.kill(pid, 'SIGKILL');
        } catch {
          // nothing to do
        }
      }
    });
  }
  return node;
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const s = createServer();
          s.once('error', reject);
          s.listen(0, '127.0.0.1', () => resolve(s));
        }),
    ),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  return ports;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import kafkajs from 'kafkajs';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * A throw-away single-node Kafka (KRaft, broker+controller) beside the shared one, for destructive
 * tests (broker killed and restarted while clients send). It runs the jars `scripts/brokers.sh`
 * cached, on its own free loopback ports, with its own data dir under `.brokers/`, and is killed
 * when the test process exits. It never touches the shared broker on 9092.
 */
export interface DisposableKafka {
  readonly port: number;
  readonly brokers: string[];
  /** Starts the JVM (first start formats storage) and waits until it answers metadata requests. */
  start(): Promise<void>;
  /** SIGKILL: every connection drops at once, like a crash. Resolves when the process has exited. */
  kill9(): Promise<void>;
  /**
   * Graceful stop (SIGTERM: the broker closes its listeners and flushes its logs). Resolves when the
   * process has exited; SIGKILL after `timeoutMs` (default 30 s) if it has not.
   */
  stop(timeoutMs?: number): Promise<void>;
  /** Kills the broker and deletes its directory. Idempotent. */
  dispose(): Promise<void>;
}

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Directory of the cached Kafka jars (`KAFKA_LIB`), or undefined when `npm run brokers:up` never fetched them. */
export function cachedKafkaLib(): string | undefined {
  if (process.env.KAFKA_LIB && existsSync(join(process.env.KAFKA_LIB, '.complete')))
    return process.env.KAFKA_LIB;
  const base = process.env.KAFKA_CACHE_DIR
    ? join(process.env.KAFKA_CACHE_DIR, '..')
    : join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'nestjs-mq-pool');
  if (!existsSync(base)) return undefined;
  const candidates = readdirSync(base)
    .filter((d) => d.startsWith('kafka_2.13-') && existsSync(join(base, d, 'lib', '.complete')))
    .sort()
    .reverse();
  return candidates[0] ? join(base, candidates[0], 'lib') : undefined;
}

export async function createDisposableKafka(
  opts: { label?: string; heap?: string } = {},
): Promise<DisposableKafka> {
  const lib = cachedKafkaLib();
  if (!lib)
    throw new Error(
      'no cached Kafka jars: run `npm run brokers:up` once (it fetches them from Maven Central)',
    );
  const id = `kafka-disposable-${opts.label ?? 'x'}-${randomBytes(3).toString('hex')}`;
  const dir = join(ROOT, '.brokers', id);
  const [port = 0, controllerPort = 0] = await freePorts(2);
  await mkdir(join(dir, 'data'), { recursive: true });
  await mkdir(join(dir, 'logs'), { recursive: true });
  const config = join(dir, 'server.properties');
  await writeFile(
    config,
    [
      'process.roles=broker,controller',
      'node.id=1',
      `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'controller.listener.names=CONTROLLER',
      'inter.broker.listener.name=PLAINTEXT',
      `log.dirs=${join(dir, 'data')}`,
      'num.partitions=1',
      'offsets.topic.replication.factor=1',
      'offsets.topic.num.partitions=3',
      'transaction.state.log.replication.factor=1',
      'transaction.state.log.min.isr=1',
      'transaction.state.log.num.partitions=3',
      'share.coordinator.state.topic.replication.factor=1',
      'share.coordinator.state.topic.min.isr=1',
      'group.initial.rebalance.delay.ms=0',
      'group.min.session.timeout.ms=1000',
      'auto.create.topics.enable=true',
      '',
    ].join('\n'),
  );
  const jvm = [
    '-Xms64m',
    `-Xmx${opts.heap ?? '384m'}`,
    '-XX:+UseG1GC',
    '-XX:+ExitOnOutOfMemoryError',
    '-Djava.awt.headless=true',
    `-Dkafka.logs.dir=${join(dir, 'logs')}`,
    `-Dlog4j2.configurationFile=${join(ROOT, 'scripts/brokers/log4j2-broker.properties')}`,
    '-cp',
    `${lib}/*`,
  ];
  // Kafka's Uuid text form: 16 random bytes, base64url without padding (saves a JVM start).
  // Like Kafka's own Uuid.randomUuid, never start with '-': the CLI would read it as an option.
  let clusterId: string;
  do clusterId = randomBytes(16).toString('base64url');
  while (clusterId.startsWith('-'));
  await run(
    'java',
    [...jvm, 'kafka.tools.StorageTool', 'format', `--cluster-id=${clusterId}`, '-c', config],
    {
      timeout: 60_000,
    },
  );

  let child: ChildProcess | undefined;
  const brokers = [`127.0.0.1:${port}`];

  const self: DisposableKafka = {
    port,
    brokers,
    async start() {
      if (child && child.exitCode === null && child.signalCode === null) return;
      const proc = spawn('java', [...jvm, 'kafka.Kafka', config], { stdio: 'ignore' });
      child = proc;
      live.add(proc);
      proc.once('exit', () => live.delete(proc));
      installExitHook();
      await waitReady(brokers, proc, 120_000);
    },
    async kill9() {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGKILL');
      await exited;
    },
    async stop(timeoutMs = 30_000) {
      const proc = child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    },
    async dispose() {
      await self.kill9();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return self;
}

async function waitReady(brokers: string[], proc: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const kafka = new kafkajs.Kafka({
    brokers,
    clientId: 'disposable-kafka-probe',
    logLevel: kafkajs.logLevel.NOTHING,
    connectionTimeout: 500,
    retry: { retries: 0 },
  });
  for (;;) {
    if (proc.exitCode !== null || proc.signalCode !== null)
      throw new Error('disposable Kafka exited during start-up');
    const admin = kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length > 0) return;
    } catch {
      // not up yet
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    if (Date.now() > deadline)
      throw new Error(`disposable Kafka did not answer within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 300));
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const proc of live) proc.kill('SIGKILL');
  });
}

async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once('error', reject);
          server.listen(0, '127.0.0.1', () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => {
    const address = s.address();
    return typeof address === 'object' && address ? address.port : 0;
  });
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { amqpUrl } from '../../../support/broker-env.js';

/**
 * The RabbitMQ Java client (test/interop/java/AmqpInterop.java) run from a test: compiled by
 * scripts/java-interop.sh, then one JVM per command. Every result line it prints is JSON.
 */
const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));

export interface JavaRun {
  readonly code: number | null;
  /** The JSON lines printed on stdout, parsed. */
  readonly lines: Array<Record<string, unknown>>;
  readonly stderr: string;
}

/**
 * Fetches the client and compiles the program (cached after the first time); resolves with the
 * classpath. Fails, never skips, when java, javac or mvn is missing: the reason is in the error.
 */
export function javaClasspath(): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      ['scripts/java-interop.sh', 'classpath'],
      { cwd: ROOT, timeout: 600_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const classpath = stdout.trim().split('\n').pop() ?? '';
        if (error === null && classpath !== '') return resolve(classpath);
        reject(
          new Error(
            `The RabbitMQ Java client could not be prepared: scripts/java-interop.sh failed ` +
              `(${error?.message ?? 'no classpath printed'}).\n${stderr.trim()}`,
          ),
        );
      },
    );
  });
}

function javaArgs(classpath: string, args: readonly string[]): string[] {
  return [
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-cp',
    classpath,
    'AmqpInterop',
    ...args,
  ];
}

function parseLines(stdout: string): Array<Record<string, unknown>> {
  return stdout
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** `AmqpInterop <args>` to completion. */
export function runJava(classpath: string, args: readonly string[]): Promise<JavaRun> {
  return new Promise((resolve, reject) => {
    execFile(
      'java',
      javaArgs(classpath, args),
      { env: { ...process.env, AMQP_URL: amqpUrl() }, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error !== null && typeof error.code !== 'number') return reject(error);
        resolve({
          code: error === null ? 0 : Number(error.code),
          lines: parseLines(stdout),
          stderr,
        });
      },
    );
  });
}

/** A running `AmqpInterop serve`: `ready` once it consumes; `done` when it exits. */
export interface JavaServer {
  readonly ready: Promise<void>;
  readonly done: Promise<JavaRun>;
  /** Ends the JVM if it still runs (a failed test must not leave it waiting for requests). */
  stop(): void;
}

/** Starts `AmqpInterop serve <queue> <count>`, which answers `count` requests and exits. */
export function startJavaServer(classpath: string, queue: string, count: number): JavaServer {
  const child = spawn('java', javaArgs(classpath, ['serve', queue, String(count)]), {
    env: { ...process.env, AMQP_URL: amqpUrl() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line.trim() === '') return;
    const parsed = JSON.parse(line) as Record<string, unknown>;
    lines.push(parsed);
    if (parsed.ready === true) markReady();
  });
  const done = new Promise<JavaRun>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, lines, stderr }));
  });
  return {
    // A server that exits before it is ready (bad classpath, broker refused) fails the wait.
    ready: Promise.race([
      ready,
      done.then((run) => {
        throw new Error(
          `AmqpInterop serve exited (${String(run.code)}) before it was ready: ${run.stderr}`,
        );
      }),
    ]),
    done,
    stop: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

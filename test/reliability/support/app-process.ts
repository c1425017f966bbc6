import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stripVTControlCharacters } from 'node:util';

const run = promisify(execFile);
export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/** `npm run build` + `npm run build:sample`: the library's dist/ and sample-app/dist/, as `npm run demo` does. */
export async function buildSampleApp(): Promise<void> {
  for (const script of ['build', 'build:sample']) {
    try {
      await run('npm', ['run', '--silent', script], { cwd: ROOT, timeout: 180_000 });
    } catch (error) {
      // tsc reports compile errors on stdout: show them, not just "Command failed".
      const e = error as Error & { stdout?: string; stderr?: string };
      throw new Error(`npm run ${script} failed:\n${e.stdout ?? ''}${e.stderr ?? ''}`, {
        cause: error,
      });
    }
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface AppExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** performance.now() when the process exited. */
  at: number;
}

/** The built sample app (`node sample-app/dist/main.js`) as a real child process, output captured. */
export interface SampleAppProcess {
  readonly child: ChildProcess;
  readonly base: string;
  /** stdout and stderr lines (stderr prefixed `ERR `), colours stripped. */
  readonly lines: string[];
  /** performance.now() at which each of `lines` arrived (same index). */
  readonly lineTimes: number[];
  readonly exited: Promise<AppExit>;
  /** Resolves once the app logged that it listens; rejects if it exits first or after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>;
  /** SIGKILL if still running (cleanup). */
  kill(): void;
}

export function startSampleApp(env: Record<string, string>, port: number): SampleAppProcess {
  const child = spawn(process.execPath, ['sample-app/dist/main.js'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PORT: String(port), FORCE_COLOR: '0', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const lineTimes: number[] = [];
  const collect = (prefix: string) => {
    let partial = '';
    return (chunk: Buffer) => {
      const text = partial + chunk.toString('utf8');
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      for (const p of parts) {
        if (p.length === 0) continue;
        lines.push(prefix + stripVTControlCharacters(p));
        lineTimes.push(performance.now());
      }
    };
  };
  child.stdout!.on('data', collect(''));
  child.stderr!.on('data', collect('ERR '));
  const exited = new Promise<AppExit>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal, at: performance.now() })),
  );
  let gone = false;
  void exited.then(() => (gone = true));

  return {
    child,
    base: `http://127.0.0.1:${port}`,
    lines,
    lineTimes,
    exited,
    async ready(timeoutMs) {
      const until = Date.now() + timeoutMs;
      while (!lines.some((l) => l.includes('listening on http://127.0.0.1:'))) {
        if (gone) throw new Error(`the sample app exited during startup:\n${lines.join('\n')}`);
        if (Date.now() > until) {
          throw new Error(
            `the sample app was not ready within ${timeoutMs} ms:\n${lines.join('\n')}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    kill() {
      if (!gone) child.kill('SIGKILL');
    },
  };
}

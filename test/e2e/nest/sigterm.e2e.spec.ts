import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { amqpUrl, rawRabbit, unique, waitFor } from './support/e2e-support.js';

/**
 * The real signal path: a separate app process with app.enableShutdownHooks() gets SIGTERM while
 * a consumer handler is blocked. Readiness turns down at once, the process stays up until the
 * handler finished, then exits; the message is acked exactly once and one drain report is logged.
 */
const queue = unique('e2e-nest-sigterm');
const root = fileURLToPath(new URL('../../../', import.meta.url));
let child: ChildProcess | undefined;

afterAll(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  const raw = await rawRabbit();
  await (await raw.model.createChannel()).deleteQueue(queue).catch(() => undefined);
  await raw.close();
});

describe('SIGTERM with enableShutdownHooks()', () => {
  it('readiness down first, drain waits for the blocked handler, then the process exits; acked once', async () => {
    const raw = await rawRabbit();
    const setup = await raw.model.createChannel();
    await setup.assertQueue(queue, { durable: true });
    await raw.close();

    const lines: string[] = [];
    child = spawn(process.execPath, ['--import', 'tsx', 'test/e2e/nest/support/sigterm-app.ts'], {
      cwd: root,
      env: { ...process.env, AMQP_URL: amqpUrl(), QUEUE: queue },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    child
      .stdout!.setEncoding('utf8')
      .on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) =>
      lines.push(
        ...chunk
          .split('\n')
          .filter(Boolean)
          .map((l) => `ERR ${l}`),
      ),
    );
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child!.once('exit', (code, signal) => resolve({ code, signal })),
    );

    await waitFor(
      () => lines.some((l) => l.startsWith('READY ')),
      60_000,
      `app ready (${lines.join(' | ')})`,
    );
    const base = lines.find((l) => l.startsWith('READY '))!.slice('READY '.length);
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);

    const pub = await rawRabbit();
    const ch = await pub.model.createConfirmChannel();
    ch.sendToQueue(queue, Buffer.from('job-1'), { persistent: true });
    await ch.waitForConfirms();
    await pub.close();
    await waitFor(() => lines.includes('HANDLER job-1'), 10_000, 'handler entered');

    child.kill('SIGTERM');
    await waitFor(
      async () =>
        (await fetch(`${base}/health/ready`).then(
          (r) => r.status,
          () => 0,
        )) === 503,
      5_000,
      'readiness down',
    );
    await new Promise((r) => setTimeout(r, 500));
    expect(child.exitCode).toBeNull(); // still draining: the handler holds it

    child.send('release');
    const { code, signal } = await exited;
    expect(signal === 'SIGTERM' || code === 0).toBe(true);
    expect(lines).toContain('HANDLER_DONE');
    expect(lines.filter((l) => l.startsWith('HANDLER job-1'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('message-broker pools drained'))).toHaveLength(1);
    expect(lines.join('\n')).not.toContain('guest:guest');

    const check = await rawRabbit();
    const q = await (await check.model.createChannel()).checkQueue(queue);
    expect(q.messageCount).toBe(0);
    await check.close();
  }, 120_000);
});

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));

describe('npm run demo -- --once', () => {
  it('builds, starts the sample app, tours publish/consume, /health and /metrics, then drains and exits cleanly', async () => {
    const { stdout } = await run('npm', ['run', '--silent', 'demo', '--', '--once'], {
      cwd: root,
      env: {
        ...process.env,
        PORT: '3217',
        DEMO_ORDERS: '120',
        DEMO_EVENTS: '60',
        FORCE_COLOR: '0',
      },
      timeout: 240_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    expect(stdout).toContain('ready: /health is up');
    expect(stdout).toMatch(/orders {2}consumed 120\/120, audited 120\/120/);
    expect(stdout).toMatch(/events {2}consumed 60\/60, transactions committed 10/);
    expect(stdout).toMatch(/"status": "ok"/);
    expect(stdout).toMatch(/mq_pool_channels\{pool="default",broker="rabbitmq",state="leased"\}/);
    // Acked by the @RabbitSubscribe handler and by the low-level consume() audit example: 2 × 120.
    expect(stdout).toMatch(
      /mq_consume_total\{pool="default",broker="rabbitmq",outcome="ack"\} +240/,
    );
    expect(stdout).toContain('tour complete');
    expect(stdout).toMatch(/rabbitmq +pool "default": drained in \d+ ms/);
    expect(stdout).toContain('the app exited cleanly');
  }, 300_000);
});

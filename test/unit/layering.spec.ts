import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const fixture = fileURLToPath(new URL('../fixtures/layering/', import.meta.url));

async function depcruise(cwd: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(
      `${root}node_modules/.bin/depcruise`,
      ['lib', '--config', `${root}.dependency-cruiser.cjs`],
      { cwd },
    );
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code: number; stdout: string; stderr: string };
    return { code: err.code, output: err.stdout + err.stderr };
  }
}

describe('layering rule (DESIGN §2)', () => {
  it('rejects a core file that imports Nest and an adapter that imports the Nest layer', async () => {
    const { code, output } = await depcruise(fixture);
    expect(code).not.toBe(0);
    expect(output).toContain('core-is-framework-free');
    expect(output).toContain('lib/core/imports-nest.ts');
    expect(output).toContain('rabbitmq-adapter-only-core-and-amqplib');
    expect(output).not.toContain('lib/core/fine.ts');
  }, 30_000);

  it('passes on the real lib/', async () => {
    const { code, output } = await depcruise(root);
    expect(output).not.toMatch(/error/i);
    expect(code).toBe(0);
  }, 60_000);
});

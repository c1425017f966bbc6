import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** lib/telemetry sits between the core and the adapters: the rule in .dependency-cruiser.cjs must bite. */
describe('telemetry layering rule', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'telemetry-layering-'));
    const file = (path: string, text: string): void => {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    file(
      'tsconfig.json',
      '{ "compilerOptions": { "module": "nodenext", "moduleResolution": "nodenext", "strict": true } }',
    );
    file(
      'lib/core/uses-telemetry.ts',
      "import { x } from '../telemetry/ok.js';\nexport const y = x;\n",
    );
    file('lib/telemetry/ok.ts', 'export const x = 1;\n');
    file('lib/telemetry/uses-amqplib.ts', "import amqp from 'amqplib';\nexport const c = amqp;\n");
    file(
      'lib/telemetry/uses-adapter.ts',
      "import { z } from '../rabbitmq/z.js';\nexport const w = z;\n",
    );
    file('lib/rabbitmq/z.ts', "import { x } from '../telemetry/ok.js';\nexport const z = x;\n");
    symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'), 'dir');
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('rejects core → telemetry, telemetry → amqplib and telemetry → an adapter; allows adapter → telemetry', async () => {
    let output = '';
    let code = 0;
    try {
      await run(
        `${root}node_modules/.bin/depcruise`,
        ['lib', '--config', `${root}.dependency-cruiser.cjs`],
        { cwd: dir },
      );
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      code = err.code;
      output = err.stdout + err.stderr;
    }
    expect(code).not.toBe(0);
    expect(output).toContain(
      'core-is-framework-free: lib/core/uses-telemetry.ts → lib/telemetry/ok.ts',
    );
    expect(output).toContain('telemetry-is-broker-neutral');
    expect(output).toContain('lib/telemetry/uses-amqplib.ts');
    expect(output).toContain('lib/telemetry/uses-adapter.ts');
    expect(output).toContain(
      'telemetry-is-broker-neutral: lib/telemetry/uses-adapter.ts → lib/rabbitmq/z.ts',
    );
    expect(output).not.toContain('lib/rabbitmq/z.ts →');
  }, 60_000);
});

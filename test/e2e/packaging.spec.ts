import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amqpUrl } from '../support/broker-env.js';
import {
  createPackedApp,
  packLibrary,
  REPO_ROOT,
  type PackedLibrary,
} from '../support/packed-app.js';

/**
 * Packaging proof (issue 2): `npm pack` the library, install the tarball into throw-away Nest 12
 * apps outside the repo — one ESM, one CommonJS, as Nest 12's generator offers both — then
 * compile them with the TypeScript the generator uses and boot them against the real broker.
 */
const run = promisify(execFile);
const fixtures = join(REPO_ROOT, 'test/fixtures/packaging');

let lib: PackedLibrary | undefined;

beforeAll(async () => {
  lib = await packLibrary('mq-pool-packaging-');
  expect(lib.files).toContain('dist/index.js');
  expect(lib.files).toContain('dist/index.d.ts');
  expect(
    lib.files.some(
      (f) => f.startsWith('lib/') || f.startsWith('test/') || f.startsWith('sample-app/'),
    ),
  ).toBe(false);
}, 300_000);

afterAll(async () => {
  if (lib) await rm(lib.workDir, { recursive: true, force: true });
});

describe.each([
  { kind: 'esm', type: 'module' },
  { kind: 'cjs', type: 'commonjs' },
] as const)('a Nest 12 $kind app using the packed tarball', ({ kind, type }) => {
  it('installs, compiles with strict TypeScript and boots against RabbitMQ', async () => {
    const app = await createPackedApp(lib!, {
      name: `app-${kind}`,
      type,
      sources: [join(fixtures, `main.${kind}.ts`)],
    });
    const { stdout } = await run(process.execPath, [`dist/main.${kind}.js`], {
      cwd: app,
      env: { ...process.env, AMQP_URL: amqpUrl() },
      timeout: 60_000,
    });
    const line = stdout.split('\n').find((l) => l.startsWith('PACKAGING_OK'));
    expect(line, stdout).toBeDefined();
    const result = JSON.parse(line!.slice('PACKAGING_OK '.length)) as {
      kind: string;
      errorsAreTyped: boolean;
    };
    expect(result.kind).toBe(kind);
    expect(result.errorsAreTyped).toBe(true);
  }, 300_000);
});

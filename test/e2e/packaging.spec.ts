import { execFile } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { amqpUrl } from '../support/broker-env.js';

/**
 * Packaging proof (issue 2): `npm pack` the library, install the tarball into throw-away Nest 12
 * apps outside the repo — one ESM, one CommonJS, as Nest 12's generator offers both — then
 * compile them with the TypeScript the generator uses and boot them against the real broker.
 */
const run = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(root, 'test/fixtures/packaging');

async function installedVersion(pkg: string): Promise<string> {
  const manifest = JSON.parse(
    await readFile(join(root, 'node_modules', pkg, 'package.json'), 'utf8'),
  ) as { version: string };
  return manifest.version;
}

const PEERS = [
  '@types/node',
  '@nestjs/common',
  '@nestjs/core',
  '@nestjs/terminus',
  '@willsoto/nestjs-prometheus',
  'prom-client',
  'reflect-metadata',
  'rxjs',
];

let workDir = '';
let tarball = '';

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'mq-pool-packaging-'));
  await run('npm', ['run', 'build'], { cwd: root });
  const { stdout } = await run('npm', ['pack', '--pack-destination', workDir, '--json'], {
    cwd: root,
  });
  const [packed] = JSON.parse(stdout) as Array<{
    filename: string;
    files: Array<{ path: string }>;
  }>;
  expect(packed).toBeDefined();
  const files = packed!.files.map((f) => f.path);
  expect(files).toContain('dist/index.js');
  expect(files).toContain('dist/index.d.ts');
  expect(
    files.some((f) => f.startsWith('lib/') || f.startsWith('test/') || f.startsWith('sample-app/')),
  ).toBe(false);
  tarball = join(workDir, packed!.filename);
}, 300_000);

afterAll(async () => {
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

describe.each([
  { kind: 'esm', type: 'module' },
  { kind: 'cjs', type: 'commonjs' },
] as const)('a Nest 12 $kind app using the packed tarball', ({ kind, type }) => {
  it('installs, compiles with strict TypeScript and boots against RabbitMQ', async () => {
    const app = join(workDir, `app-${kind}`);
    await run('mkdir', ['-p', join(app, 'src')]);
    const deps: Record<string, string> = { 'nestjs-mq-pool': `file:${tarball}` };
    for (const peer of PEERS) deps[peer] = await installedVersion(peer);
    await writeFile(
      join(app, 'package.json'),
      JSON.stringify(
        { name: `packaging-${kind}`, private: true, type, dependencies: deps },
        null,
        2,
      ),
    );
    await writeFile(
      join(app, 'tsconfig.json'),
      JSON.stringify({
        // What `nest new` (Nest 12) generates, with strict on.
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'ES2023',
          strict: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          esModuleInterop: true,
          skipLibCheck: false,
          types: ['node'],
          outDir: 'dist',
          rootDir: 'src',
        },
        include: ['src'],
      }),
    );
    await copyFile(join(fixtures, `main.${kind}.ts`), join(app, 'src/main.ts'));
    await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'],
      { cwd: app },
    );
    // Type-check the app against the published .d.ts, with the repo's TypeScript (the generator's major).
    await run(
      process.execPath,
      [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
      {
        cwd: app,
      },
    ).catch((e: { stdout?: string; stderr?: string }) => {
      throw new Error(`tsc failed for the ${kind} app:\n${e.stdout ?? ''}${e.stderr ?? ''}`);
    });
    const { stdout } = await run(process.execPath, ['dist/main.js'], {
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

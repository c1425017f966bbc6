import 'reflect-metadata';
import { readdir, readFile } from 'node:fs/promises';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RequestMethod, type DynamicModule, type Type } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import { ConfigService } from '@nestjs/config';
import ts from 'typescript';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { AppModule } from '../../sample-app/src/app.module.js';
import { SHUTDOWN_DRAIN_TIMEOUT_MS } from '../../sample-app/src/sample-config.js';

/**
 * The deployment recipe (sample-app/Dockerfile, sample-app/deploy/kubernetes.yaml, .dockerignore)
 * against the sample app itself: probes hit routes the app's controllers really declare, ports
 * agree, the grace period outlives preStop + the drain budget the app really runs with, the
 * image runs `node` as PID 1 as a non-root user on the file build:sample emits, and credentials
 * only come from a Secret. No Docker engine here: the Dockerfile is read as text, never built.
 */
const root = fileURLToPath(new URL('../../', import.meta.url));
const read = (path: string) => readFile(join(root, path), 'utf8');

// ------------------------------------------------------------------ Dockerfile, as instructions

interface Instruction {
  op: string;
  args: string;
}

/** Instructions per stage: comments dropped, `\` continuations joined. */
function parseDockerfile(text: string): Instruction[][] {
  const logical = text
    .replace(/\\\r?\n/g, ' ')
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0 && !l.startsWith('#'));
  const stages: Instruction[][] = [];
  for (const line of logical) {
    const [, op = '', args = ''] = /^(\w+)\s+(.*)$/.exec(line) ?? [];
    const instruction = { op: op.toUpperCase(), args };
    if (instruction.op === 'FROM') stages.push([]);
    stages.at(-1)?.push(instruction);
  }
  return stages;
}

const only = (stage: Instruction[], op: string) => stage.filter((i) => i.op === op);

// ------------------------------------------------------------------ Kubernetes manifest

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (typeof v === 'object' && v !== null ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);

// ------------------------------------------------------------------ the sample app's routes

/** `GET /health`, … from the controllers' Nest metadata (what the router registers). */
function routesOf(module: Type<unknown>): Set<string> {
  const routes = new Set<string>();
  const controllers = (Reflect.getMetadata('controllers', module) ?? []) as Type<unknown>[];
  const join = (...parts: string[]) =>
    `/${parts
      .flatMap((p) => p.split('/'))
      .filter(Boolean)
      .join('/')}`;
  for (const controller of controllers) {
    const bases = [Reflect.getMetadata(PATH_METADATA, controller) ?? '/'].flat() as string[];
    const proto = controller.prototype as Record<string, unknown>;
    for (const key of Object.getOwnPropertyNames(proto)) {
      const handler = proto[key];
      if (key === 'constructor' || typeof handler !== 'function') continue;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (method === undefined) continue;
      const paths = [Reflect.getMetadata(PATH_METADATA, handler) ?? '/'].flat() as string[];
      for (const base of bases)
        for (const path of paths) routes.add(`${RequestMethod[method]} ${join(base, path)}`);
    }
  }
  return routes;
}

/**
 * The module options the sample app really runs with: its `forRootAsync` factory (fed by a real
 * ConfigService over the current env) and then the library's own resolution of defaults.
 */
function resolvedPoolOptions(): { drainTimeoutMs: number; kafka?: { transactions?: Obj } } {
  const imports = (Reflect.getMetadata('imports', AppModule) ?? []) as DynamicModule[];
  type Provider = {
    provide: unknown;
    useFactory?: (...a: unknown[]) => unknown;
    inject?: unknown[];
  };
  const providers = imports.flatMap((m) => (m.providers ?? []) as Provider[]);
  const raw = providers.find((p) => p.useFactory && p.inject?.includes(ConfigService));
  const resolve = providers.find(
    (p) => p.useFactory && p.inject?.length === 1 && p.inject[0] === raw?.provide,
  );
  if (!raw?.useFactory || !resolve?.useFactory)
    throw new Error('MqPoolModule.forRootAsync factory not found in AppModule');
  return resolve.useFactory(raw.useFactory(new ConfigService())) as ReturnType<
    typeof resolvedPoolOptions
  >;
}

// ------------------------------------------------------------------ fixtures

let stages: Instruction[][];
let runtime: Instruction[];
let deployment: Obj;
let service: Obj;
let container: Obj;
let routes: Set<string>;

beforeAll(async () => {
  stages = parseDockerfile(await read('sample-app/Dockerfile'));
  runtime = stages.at(-1) ?? [];
  const docs = parseAllDocuments(await read('sample-app/deploy/kubernetes.yaml')).map((d) => {
    expect(d.errors).toEqual([]);
    return obj(d.toJS());
  });
  deployment = docs.find((d) => d['kind'] === 'Deployment') ?? {};
  service = docs.find((d) => d['kind'] === 'Service') ?? {};
  const containers = arr(obj(obj(obj(deployment['spec'])['template'])['spec'])['containers']);
  expect(containers).toHaveLength(1);
  container = containers[0] ?? {};
  routes = routesOf(AppModule);
});

afterEach(() => {
  vi.unstubAllEnvs();
});

const podSpec = () => obj(obj(obj(deployment['spec'])['template'])['spec']);
const envVar = (name: string) => arr(container['env']).find((e) => e['name'] === name);
const containerPort = () => {
  const ports = arr(container['ports']);
  expect(ports).toHaveLength(1);
  return ports[0] ?? {};
};
/** A probe's or Service's port: a number, or the name of the container port. */
const portNumber = (port: unknown): number => {
  const byName = arr(container['ports']).find((p) => p['name'] === port);
  return Number(byName ? byName['containerPort'] : port);
};
const preStopSleepSeconds = (): number => {
  const command = obj(obj(obj(container['lifecycle'])['preStop'])['exec'])['command'];
  if (!Array.isArray(command)) return 0;
  expect(command[0]).toBe('sleep');
  return Number(command[1]);
};

describe('Kubernetes manifest vs the sample app', () => {
  it('discovers the routes from the controllers', () => {
    expect(routes).toContain('GET /health');
    expect(routes).toContain('GET /health/live');
    expect(routes).toContain('POST /orders');
  });

  it('readiness probes a real route that checks the brokers; liveness a real one that does not', async () => {
    const readiness = obj(obj(container['readinessProbe'])['httpGet']);
    const liveness = obj(obj(container['livenessProbe'])['httpGet']);
    const startup = obj(obj(container['startupProbe'])['httpGet']);
    expect(routes).toContain(`GET ${String(readiness['path'])}`);
    expect(routes).toContain(`GET ${String(liveness['path'])}`);
    if (container['startupProbe'] !== undefined)
      expect(routes).toContain(`GET ${String(startup['path'])}`);
    // What each probe's handler checks, run against stand-ins for Terminus and the indicators:
    // readiness asks both broker indicators; liveness asks none, or a broker outage would make the
    // kubelet restart every replica.
    expect(await indicatorsCheckedBy(String(readiness['path']))).toEqual(['kafka', 'rabbitmq']);
    expect(await indicatorsCheckedBy(String(liveness['path']))).toEqual([]);
    expect(readiness['path']).not.toBe(liveness['path']);
  });

  it('ports agree: PORT env, containerPort, probes, Service targetPort and the image', () => {
    const port = Number(containerPort()['containerPort']);
    expect(Number(envVar('PORT')?.['value'])).toBe(port);
    for (const probe of ['readinessProbe', 'livenessProbe', 'startupProbe'])
      if (container[probe] !== undefined)
        expect(portNumber(obj(obj(container[probe])['httpGet'])['port'])).toBe(port);
    for (const p of arr(obj(service['spec'])['ports']))
      expect(portNumber(p['targetPort'])).toBe(port);
    expect(obj(obj(service['spec'])['selector'])).toEqual(
      obj(obj(obj(deployment['spec'])['selector'])['matchLabels']),
    );
    expect(only(runtime, 'EXPOSE').map((i) => Number(i.args))).toEqual([port]);
    expect(
      only(runtime, 'ENV')
        .map((i) => i.args)
        .join(' '),
    ).toMatch(new RegExp(`PORT=${port}\\b`));
    // Probes and the Service reach the pod IP: the app must not listen on loopback only.
    expect(envVar('HOST')?.['value']).toBe('0.0.0.0');
  });

  it('terminationGracePeriodSeconds > preStop sleep + the drain budget the app runs with + settle grace', () => {
    const options = resolvedPoolOptions();
    // The constant in sample-config.ts is the value the app runs with, not a copy that drifted.
    expect(options.drainTimeoutMs).toBe(SHUTDOWN_DRAIN_TIMEOUT_MS);
    const graceSeconds = Number(podSpec()['terminationGracePeriodSeconds']);
    const preStop = preStopSleepSeconds();
    // 1 s: drainWithin() (lib/shutdown/drain-outcome.ts) lets a drain settle that long past its budget.
    const neededMs = preStop * 1_000 + options.drainTimeoutMs + 1_000;
    console.log(
      `[deployment] grace ${graceSeconds * 1_000} ms > preStop ${preStop * 1_000} ms + drain ${options.drainTimeoutMs} ms + 1000 ms = ${neededMs} ms`,
    );
    expect(graceSeconds * 1_000).toBeGreaterThan(neededMs);
    expect(preStop).toBeGreaterThan(0);
  });

  it('broker addresses and credentials come from a Secret, never inline', () => {
    for (const name of ['AMQP_URL', 'KAFKA_BROKERS']) {
      const ref = obj(obj(envVar(name)?.['valueFrom'])['secretKeyRef']);
      expect(ref['name'], name).toEqual(expect.any(String));
      expect(ref['key'], name).toEqual(expect.any(String));
      expect(envVar(name)?.['value'], name).toBeUndefined();
    }
    for (const e of arr(container['env'])) {
      expect(String(e['value'] ?? '')).not.toMatch(/:\/\/[^/\s]*@/); // user:pass@host
      if (/URL|PASSWORD|SECRET|TOKEN|SASL|BROKERS/i.test(String(e['name'])))
        expect(obj(e['valueFrom'])['secretKeyRef'], String(e['name'])).toBeDefined();
    }
  });

  it('runs as non-root with resource requests and limits', () => {
    const pod = obj(podSpec()['securityContext']);
    expect(pod['runAsNonRoot']).toBe(true);
    expect(Number(pod['runAsUser'])).toBeGreaterThan(0);
    const resources = obj(container['resources']);
    for (const kind of ['requests', 'limits'])
      for (const r of ['cpu', 'memory'])
        expect(obj(resources[kind])[r], `${kind}.${r}`).toBeDefined();
  });

  it('with a fixed transactional id prefix, never two pods at once (they would fence each other)', () => {
    const prefixFor = (pod: string) => {
      for (const name of ['KAFKA_TRANSACTIONAL_ID_PREFIX', 'POD_NAME', 'HOSTNAME'])
        vi.stubEnv(name, pod);
      return resolvedPoolOptions().kafka?.transactions?.['transactionalIdPrefix'];
    };
    const perPod = prefixFor('pod-a') !== prefixFor('pod-b');
    const spec = obj(deployment['spec']);
    if (!perPod) {
      expect(Number(spec['replicas'])).toBe(1);
      expect(obj(spec['strategy'])['type']).toBe('Recreate');
    }
  });
});

describe('Dockerfile', () => {
  it('is multi-stage: npm ci, build, build:sample, production-only node_modules', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const build = stages[0] ?? [];
    const runs = only(build, 'RUN').map((i) => i.args);
    const order = ['npm ci', 'npm run build ', 'npm run build:sample', 'npm prune --omit=dev'].map(
      (cmd) => runs.findIndex((r) => `${r} `.includes(cmd)),
    );
    expect(order.every((i) => i >= 0)).toBe(true);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(only(runtime, 'RUN')).toEqual([]); // nothing built in the runtime image
  });

  it('CMD is exec-form `node <the file build:sample emits>`, Node as PID 1, SIGTERM as stop signal', async () => {
    expect(only(runtime, 'ENTRYPOINT')).toEqual([]);
    const cmds = only(runtime, 'CMD');
    expect(cmds).toHaveLength(1);
    const cmd = JSON.parse(cmds[0]?.args ?? '') as unknown; // exec form = a JSON array
    expect(Array.isArray(cmd)).toBe(true);
    const [bin, entry, ...rest] = cmd as string[];
    expect(bin).toBe('node');
    expect(rest).toEqual([]);

    // What `npm run build:sample` emits for sample-app/src/main.ts, per its tsconfig.
    const pkg = JSON.parse(await read('package.json')) as { scripts: Record<string, string> };
    const project = /tsc -p (\S+)/.exec(pkg.scripts['build:sample'] ?? '')?.[1] ?? '';
    const configPath = join(root, project);
    const config = ts.readConfigFile(configPath, ts.sys.readFile);
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, join(configPath, '..'));
    const { outDir = '', rootDir = '' } = parsed.options;
    const main = join(root, 'sample-app/src/main.ts');
    expect(parsed.fileNames).toContain(main);
    const emitted = join(outDir, relative(rootDir, main)).replace(/\.ts$/, '.js');
    const workdir = only(runtime, 'WORKDIR').at(-1)?.args ?? '/';
    expect(join(workdir, entry ?? '')).toBe(join(workdir, (emitted ?? '').slice(root.length)));
    // ...and the runtime stage copies that directory, the library's dist and package.json (whose
    // "name" + "exports" resolve `import 'nestjs-mq-pool'` to ./dist by package self-reference).
    const copied = only(runtime, 'COPY').map((i) => i.args.split(/\s+/).at(-1) ?? '');
    const normalized = copied.map((d) => join(workdir, d));
    for (const needed of ['package.json', 'dist', 'node_modules', 'sample-app/dist'])
      expect(normalized, needed).toContain(join(workdir, needed));
    expect(only(runtime, 'STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM']);
  });

  it('runs as a non-root user', () => {
    const users = only(runtime, 'USER').map((i) => i.args);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0']).not.toContain(users.at(-1));
  });

  it('keeps every package the built app imports at run time', async () => {
    const arg = only(stages[0] ?? [], 'ARG').find((i) => i.args.startsWith('RUNTIME_PACKAGES='));
    const promoted = new Set((/"([^"]*)"/.exec(arg?.args ?? '')?.[1] ?? '').split(/\s+/));
    const pkg = JSON.parse(await read('package.json')) as {
      name: string;
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    for (const name of promoted) expect(pkg.devDependencies, name).toHaveProperty([name]);
    const kept = new Set([...promoted, ...Object.keys(pkg.dependencies)]);
    const imported = new Set<string>();
    for (const dir of ['lib', 'sample-app/src'])
      for (const file of await readdir(join(root, dir), { recursive: true })) {
        if (!file.endsWith('.ts')) continue;
        const source = await read(join(dir, file));
        // Value imports only: `import type` is erased and needs nothing at run time.
        for (const [, spec = ''] of source.matchAll(
          /^\s*(?:import|export)\s+(?!type\s)(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm,
        ))
          if (!spec.startsWith('.')) imported.add(packageName(spec));
      }
    const missing = [...imported].filter(
      (p) => p !== pkg.name && !builtinModules.includes(p.replace(/^node:/, '')) && !kept.has(p),
    );
    expect(missing).toEqual([]);
  });

  it('.dockerignore lets in exactly what the build copies and keeps node_modules, dist and .git out', async () => {
    const patterns = (await read('.dockerignore'))
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    const ignored = (path: string) => {
      let result = false;
      for (const p of patterns) {
        const negate = p.startsWith('!');
        const pattern = negate ? p.slice(1) : p;
        if (pattern === '*' || path === pattern || path.startsWith(`${pattern}/`)) result = !negate;
      }
      return result;
    };
    const sources = only(stages[0] ?? [], 'COPY')
      .filter((i) => !i.args.includes('--from'))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(ignored(source), source).toBe(false);
    for (const kept of ['node_modules', 'dist', 'sample-app/dist', '.git', '.brokers', '.env'])
      expect(ignored(kept), kept).toBe(true);
  });
});

function packageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? spec);
}

/**
 * Calls the GET handler serving `path` on an instance of its controller whose dependencies are
 * stand-ins (by constructor parameter type): a HealthCheckService that runs the checks it is
 * given, and indicators that record their name. Returns the indicators the handler consulted.
 */
async function indicatorsCheckedBy(path: string): Promise<string[]> {
  const consulted: string[] = [];
  const controllers = (Reflect.getMetadata('controllers', AppModule) ?? []) as Type<unknown>[];
  for (const controller of controllers) {
    const base = [Reflect.getMetadata(PATH_METADATA, controller) ?? '/'].flat() as string[];
    const proto = controller.prototype as Record<string, unknown>;
    for (const key of Object.getOwnPropertyNames(proto)) {
      const handler = proto[key];
      if (key === 'constructor' || typeof handler !== 'function') continue;
      if (Reflect.getMetadata(METHOD_METADATA, handler) !== RequestMethod.GET) continue;
      const sub = [Reflect.getMetadata(PATH_METADATA, handler) ?? '/'].flat() as string[];
      const serves = base.some((b) =>
        sub.some((s) => `/${`${b}/${s}`.split('/').filter(Boolean).join('/')}` === path),
      );
      if (!serves) continue;
      const params = (Reflect.getMetadata('design:paramtypes', controller) ??
        []) as Type<unknown>[];
      const deps = params.map((type) =>
        type.name === 'HealthCheckService'
          ? { check: async (checks: (() => unknown)[]) => Promise.all(checks.map((c) => c())) }
          : {
              isHealthy: (key: string) => {
                consulted.push(key);
                return { [key]: { status: 'up' } };
              },
            },
      );
      const instance = new (controller as new (...args: unknown[]) => Record<string, unknown>)(
        ...deps,
      );
      await (instance[key] as () => unknown).call(instance);
      return consulted.sort();
    }
  }
  throw new Error(`no GET handler serves ${path}`);
}

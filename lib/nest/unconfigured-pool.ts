import type { ModulesContainer } from '@nestjs/core';
import { PoolNotRegisteredError } from './errors/pool-not-registered.error.js';
import type { PoolKind } from './mq-pool.constants.js';

/**
 * Stands in for the pool of a broker a registration does not configure. Nest instantiates every
 * provider whether anyone injects it or not, and with `forRootAsync` we only learn which brokers
 * are configured once the factory ran, so the token always resolves — to this placeholder.
 * `assertNoUnconfiguredInjection()` then fails startup if anything actually depends on it.
 */
export class UnconfiguredPool {
  constructor(
    readonly kind: PoolKind,
    readonly poolName: string,
  ) {}
}

interface DependencyWrapper {
  readonly instance?: unknown;
}

interface HostWrapper {
  readonly name?: unknown;
  readonly token?: unknown;
  readonly isAlias?: boolean;
  getCtorMetadata?(): ReadonlyArray<DependencyWrapper | undefined> | undefined;
  getPropertiesMetadata?(): ReadonlyArray<{ wrapper?: DependencyWrapper } | undefined> | undefined;
}

/**
 * Throws `PoolNotRegisteredError` naming the first class (provider, controller, enhancer,
 * middleware) that was given one of `placeholders`. Runs in `onModuleInit`, after Nest resolved
 * every dependency and before any pool starts.
 */
export function assertNoUnconfiguredInjection(
  modules: ModulesContainer,
  placeholders: readonly UnconfiguredPool[],
): void {
  if (placeholders.length === 0) return;
  for (const module of modules.values()) {
    const hosts = [module.providers, module.controllers, module.injectables, module.middlewares];
    for (const map of hosts) {
      for (const wrapper of map.values() as Iterable<HostWrapper>) {
        if (wrapper.isAlias) continue; // our own `RabbitMqPool` → default-token alias
        const deps = [
          ...(wrapper.getCtorMetadata?.() ?? []),
          ...(wrapper.getPropertiesMetadata?.() ?? []).map((p) => p?.wrapper),
        ];
        for (const dep of deps) {
          const value = safeInstance(dep);
          const hit = placeholders.find((p) => p === value);
          if (hit && !isOwnToken(wrapper.token)) {
            throw PoolNotRegisteredError.brokerNotConfigured(
              hit.kind,
              hit.poolName,
              describeHost(wrapper, module.name),
            );
          }
        }
      }
    }
  }
}

function safeInstance(dep: DependencyWrapper | undefined): unknown {
  try {
    return dep?.instance;
  } catch {
    return undefined; // request-scoped wrappers may refuse a static read
  }
}

function isOwnToken(token: unknown): boolean {
  return typeof token === 'string' && token.startsWith('nestjs-mq-pool:');
}

function describeHost(wrapper: HostWrapper, moduleName: string): string {
  const name = typeof wrapper.name === 'string' ? wrapper.name : String(wrapper.token);
  return `${name} (in ${moduleName})`;
}

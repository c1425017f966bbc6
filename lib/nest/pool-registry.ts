import type { KafkaPool } from '../kafka/kafka-pool.js';
import type { RabbitMqPool } from '../rabbitmq/rabbitmq-pool.js';
import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import { PoolNotRegisteredError } from './errors/pool-not-registered.error.js';
import { DEFAULT_POOL_NAME, type PoolKind } from './mq-pool.constants.js';

/** The pools of one registration, as the registry holds them. */
export interface RegisteredPools {
  readonly rabbitmq: RabbitMqPool | undefined;
  readonly kafka: KafkaPool | undefined;
}

/**
 * Process-wide map of running pools by registration name, for the code that has no DI:
 * `@WithChannel()` wraps methods at class-definition time and `ChannelInterceptor`/`@CurrentChannel()`
 * run per request without constructor dependencies. Registrations add themselves when the app
 * initializes and remove themselves after it closed; a name is owned by one live app at a time.
 */
class PoolRegistry {
  private readonly entries = new Map<string, { owner: object; pools: RegisteredPools }>();
  // Read on every request by ChannelInterceptor: rebuilt on (un)register, never per request.
  private rabbit: ReadonlyArray<readonly [string, RabbitMqPool]> = [];

  register(name: string, owner: object, pools: RegisteredPools): void {
    const existing = this.entries.get(name);
    if (existing && existing.owner !== owner) {
      throw new InvalidPoolOptionsError(
        'name',
        `"${name}" is already registered by another running application in this process, and decorators find pools by name`,
        'close the other application first (await app.close()), or give this registration a distinct name',
      );
    }
    this.entries.set(name, { owner, pools });
    this.rebuild();
  }

  unregister(name: string, owner: object): void {
    if (this.entries.get(name)?.owner !== owner) return;
    this.entries.delete(name);
    this.rebuild();
  }

  /** Running RabbitMQ pools by name. */
  rabbitPools(): ReadonlyArray<readonly [string, RabbitMqPool]> {
    return this.rabbit;
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  rabbitmq(name: string = DEFAULT_POOL_NAME): RabbitMqPool {
    return this.lookup('rabbitmq', name).rabbitmq ?? this.missingBroker('rabbitmq', name);
  }

  kafka(name: string = DEFAULT_POOL_NAME): KafkaPool {
    return this.lookup('kafka', name).kafka ?? this.missingBroker('kafka', name);
  }

  private rebuild(): void {
    const rabbit: Array<readonly [string, RabbitMqPool]> = [];
    for (const [name, { pools }] of this.entries)
      if (pools.rabbitmq) rabbit.push([name, pools.rabbitmq]);
    this.rabbit = rabbit;
  }

  private lookup(kind: PoolKind, name: string): RegisteredPools {
    const entry = this.entries.get(name);
    if (!entry) throw PoolNotRegisteredError.unknownName(kind, name, this.names());
    return entry.pools;
  }

  private missingBroker(kind: PoolKind, name: string): never {
    throw PoolNotRegisteredError.brokerNotConfigured(kind, name);
  }
}

/** The one registry of the process. */
export const poolRegistry = new PoolRegistry();

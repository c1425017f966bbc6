import type { KafkaPool } from '../kafka/kafka-pool.js';
import type { RabbitMqPool } from '../rabbitmq/rabbitmq-pool.js';
import { PoolNotRegisteredError } from './errors/pool-not-registered.error.js';
import { DEFAULT_POOL_NAME, type PoolKind } from './mq-pool.constants.js';
import type { ResolvedMqPoolModuleOptions } from './mq-pool-module-options.js';

/** One `MqPoolModule` registration of this application. */
export interface AppPoolEntry {
  readonly name: string;
  readonly options: ResolvedMqPoolModuleOptions;
  readonly rabbitmq: RabbitMqPool | undefined;
  readonly kafka: KafkaPool | undefined;
}

/**
 * The registrations of ONE application (provided once per app by the shared core module), for the
 * parts that have DI: health indicators and the shutdown drain. Unlike the process-wide registry,
 * two apps in one process (tests) never see each other's pools here.
 */
export class AppPools {
  private readonly entries = new Map<string, AppPoolEntry>();

  add(entry: AppPoolEntry): void {
    this.entries.set(entry.name, entry);
  }

  remove(name: string): void {
    this.entries.delete(name);
  }

  all(): AppPoolEntry[] {
    return [...this.entries.values()];
  }

  rabbitmq(name: string = DEFAULT_POOL_NAME): RabbitMqPool {
    return this.get('rabbitmq', name).rabbitmq ?? missing('rabbitmq', name);
  }

  kafka(name: string = DEFAULT_POOL_NAME): KafkaPool {
    return this.get('kafka', name).kafka ?? missing('kafka', name);
  }

  private get(kind: PoolKind, name: string): AppPoolEntry {
    const entry = this.entries.get(name);
    if (!entry) throw PoolNotRegisteredError.unknownName(kind, name, [...this.entries.keys()]);
    return entry;
  }
}

function missing(kind: PoolKind, name: string): never {
  throw PoolNotRegisteredError.brokerNotConfigured(kind, name);
}

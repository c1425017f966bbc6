/**
 * Public names of the Nest layer: injection tokens come from pure functions, so a token is the same
 * string wherever it is computed (decorators, providers, tests) and never needs a shared instance.
 */

/** Name of the pool registered by `MqPoolModule.forRoot()` without a `name`. */
export const DEFAULT_POOL_NAME = 'default';

/** The broker a pool talks to; also the `broker` label of the metrics. */
export type PoolKind = 'rabbitmq' | 'kafka';

/**
 * Injection token of the pool of `kind` registered under `name` (default: `DEFAULT_POOL_NAME`).
 * `@InjectRabbitMqPool(name)` is `@Inject(getPoolToken('rabbitmq', name))`.
 */
export function getPoolToken(kind: PoolKind, name: string = DEFAULT_POOL_NAME): string {
  return `nestjs-mq-pool:${kind}:${name}`;
}

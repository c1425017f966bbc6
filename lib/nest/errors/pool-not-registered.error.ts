import { MqPoolError } from '../../core/errors/mq-pool.error.js';
import { DEFAULT_POOL_NAME, type PoolKind } from '../mq-pool.constants.js';

/**
 * A pool was asked for (injected, or looked up by `@WithChannel`, `ChannelInterceptor`, a health
 * indicator) that no running `MqPoolModule` registration provides: the name is unknown, or the
 * registration has no options for that broker. The message says which and how to fix it.
 */
export class PoolNotRegisteredError extends MqPoolError {
  readonly code = 'MQ_POOL_NOT_REGISTERED';

  constructor(
    readonly kind: PoolKind,
    readonly poolName: string,
    detail: string,
    fix: string,
  ) {
    super(`No ${brokerTitle(kind)} pool "${poolName}": ${detail}. Fix: ${fix}`);
  }

  /** No running registration is called `name`; `known` lists those that are. */
  static unknownName(
    kind: PoolKind,
    name: string,
    known: readonly string[],
  ): PoolNotRegisteredError {
    return new PoolNotRegisteredError(
      kind,
      name,
      known.length === 0
        ? 'no MqPoolModule registration is running (the app is not initialized yet, or it was closed)'
        : `no registration has that name (running: ${known.map((n) => `"${n}"`).join(', ')})`,
      `register it with MqPoolModule.forRoot(${registrationHint(kind, name)}), and use it after app.init()`,
    );
  }

  /** Registration `name` exists but has no options for `kind`. `where` names the consumer, if known. */
  static brokerNotConfigured(kind: PoolKind, name: string, where?: string): PoolNotRegisteredError {
    return new PoolNotRegisteredError(
      kind,
      name,
      `${where ? `${where} needs it, but ` : ''}registration "${name}" has no \`${kind}\` options`,
      `add them: MqPoolModule.forRoot(${registrationHint(kind, name)}), or remove the dependency`,
    );
  }
}

function brokerTitle(kind: PoolKind): string {
  return kind === 'rabbitmq' ? 'RabbitMQ' : 'Kafka';
}

function registrationHint(kind: PoolKind, name: string): string {
  const broker =
    kind === 'rabbitmq' ? `rabbitmq: { url: 'amqp://...' }` : `kafka: { brokers: ['host:9092'] }`;
  return name === DEFAULT_POOL_NAME ? `{ ${broker} }` : `{ name: '${name}', ${broker} }`;
}

import { InvalidPoolOptionsError } from '../../core/errors/invalid-pool-options.error.js';
import { checkRetryPolicy } from '../../core/handler-retry-policy.js';
import {
  checkBoolean,
  checkObject,
  checkString,
  describeOptionValue,
  optionKey,
  type OptionBag,
} from '../../core/option-checks.js';
import type { AppPoolEntry } from '../app-pools.js';
import { DEFAULT_POOL_NAME, type PoolKind } from '../mq-pool.constants.js';
import type { HandlerDeclaration } from './message-handler-options.js';

/** A decorated method found at boot. */
export interface DeclaredHandler {
  /** `Class.method`, as every message about it says. */
  readonly name: string;
  readonly declaration: HandlerDeclaration;
  readonly instance: object;
  readonly methodName: string;
  /** Why its provider cannot host a handler (request scope, transient), if it cannot. */
  readonly scopeProblem?: string;
}

/** `@RabbitSubscribe(OrdersHandler.handle)`: the key every error about one handler names. */
export function handlerKey(handler: DeclaredHandler): string {
  return `@${handler.declaration.decorator}(${handler.name})`;
}

export function poolKindOf(declaration: HandlerDeclaration): PoolKind {
  return declaration.decorator === 'KafkaSubscribe' ? 'kafka' : 'rabbitmq';
}

/** The registration name a handler's `pool` option resolves to. */
export function poolNameOf(declaration: HandlerDeclaration): string {
  return declaration.options.pool ?? DEFAULT_POOL_NAME;
}

/**
 * Every mistake in the declared handlers, all at once, before anything attaches: the provider's
 * scope, the options the Nest layer reads (the pool methods check the rest when attaching), the
 * pool (known name, broker configured) and two handlers on one queue or group of one pool.
 */
export function checkMessageHandlers(
  handlers: readonly DeclaredHandler[],
  pools: readonly AppPoolEntry[],
): InvalidPoolOptionsError[] {
  const errors: InvalidPoolOptionsError[] = [];
  const valid: DeclaredHandler[] = [];
  for (const handler of handlers) {
    try {
      checkHandler(handler, pools);
      valid.push(handler);
    } catch (error) {
      if (!(error instanceof InvalidPoolOptionsError)) throw error;
      errors.push(error);
    }
  }
  errors.push(...duplicateConsumers(valid));
  return errors;
}

function checkHandler(handler: DeclaredHandler, pools: readonly AppPoolEntry[]): void {
  const key = handlerKey(handler);
  const { declaration } = handler;
  if (handler.scopeProblem !== undefined) {
    throw new InvalidPoolOptionsError(
      key,
      handler.scopeProblem,
      'message handlers run once per app, outside any HTTP request: keep the provider a singleton (the default scope, no request-scoped dependencies) and resolve per-message state inside the handler',
    );
  }
  const options = checkObject(declaration.options, key);
  if (declaration.decorator === 'KafkaSubscribe') {
    checkTopics(options, key);
    checkString(options, 'groupId', key);
    if (options['groupId'] === undefined)
      missing(key, 'groupId', "a consumer group id, e.g. 'billing'");
    checkRetryPolicy(options['retry'], optionKey(key, 'retry'));
  } else {
    checkString(options, 'queue', key);
    if (options['queue'] === undefined)
      missing(key, 'queue', "the queue to consume, e.g. 'orders'");
    checkBoolean(options, 'shareQueue', key, false);
    if (declaration.decorator === 'RabbitSubscribe') {
      checkRetryPolicy(options['retry'], optionKey(key, 'retry'));
    }
  }
  checkString(options, 'pool', key);
  checkPool(declaration, pools, key);
}

function checkTopics(options: OptionBag, key: string): void {
  const topics = options['topics'];
  const list = typeof topics === 'string' ? [topics] : topics;
  if (
    !Array.isArray(list) ||
    list.length === 0 ||
    list.some((t) => typeof t !== 'string' || t.trim() === '')
  ) {
    throw new InvalidPoolOptionsError(
      optionKey(key, 'topics'),
      `must be a topic name or a non-empty list of them, got ${describeOptionValue(topics)}`,
      "set it to e.g. 'orders' or ['orders', 'refunds']",
    );
  }
}

function missing(key: string, prop: string, what: string): never {
  throw new InvalidPoolOptionsError(optionKey(key, prop), 'is missing', `set it to ${what}`);
}

function checkPool(
  declaration: HandlerDeclaration,
  pools: readonly AppPoolEntry[],
  key: string,
): void {
  const name = poolNameOf(declaration);
  const kind = poolKindOf(declaration);
  const entry = pools.find((p) => p.name === name);
  if (!entry) {
    const known = pools.map((p) => `"${p.name}"`).join(', ') || 'none';
    throw new InvalidPoolOptionsError(
      optionKey(key, 'pool'),
      `no MqPoolModule registration is named "${name}" (registered: ${known})`,
      `use one of the registered names, or register it: MqPoolModule.forRoot({ name: '${name}', ${kind}: { … } })`,
    );
  }
  if (!entry[kind]) {
    throw new InvalidPoolOptionsError(
      key,
      `registration "${name}" has no \`${kind}\` options, so there is no ${kind === 'kafka' ? 'Kafka' : 'RabbitMQ'} pool to run it on`,
      `add \`${kind}\` options to that registration, or point \`pool\` at one that has them`,
    );
  }
}

/**
 * Two RabbitMQ handlers on one queue of one pool (unless all say `shareQueue: true`), or two Kafka
 * handlers in one consumer group of one pool: usually a copy-paste mistake that would split the
 * messages between them silently.
 */
function duplicateConsumers(handlers: readonly DeclaredHandler[]): InvalidPoolOptionsError[] {
  const groups = new Map<string, DeclaredHandler[]>();
  for (const handler of handlers) {
    const { declaration } = handler;
    const target =
      declaration.decorator === 'KafkaSubscribe'
        ? `kafka group "${declaration.options.groupId}"`
        : `queue "${declaration.options.queue}"`;
    const id = `${poolNameOf(declaration)}\u0000${target}`;
    groups.set(id, [...(groups.get(id) ?? []), handler]);
  }
  const errors: InvalidPoolOptionsError[] = [];
  for (const [id, group] of groups) {
    if (group.length < 2) continue;
    const shared = group.every(
      (h) => h.declaration.decorator !== 'KafkaSubscribe' && h.declaration.options.shareQueue,
    );
    if (shared) continue;
    const [pool = '', target = ''] = id.split('\u0000');
    const names = group.map(handlerKey).join(' and ');
    errors.push(
      group[0]!.declaration.decorator === 'KafkaSubscribe'
        ? new InvalidPoolOptionsError(
            optionKey(handlerKey(group[1]!), 'groupId'),
            `${names} join the same ${target} of pool "${pool}", so each would get only some of the records`,
            'give each handler its own groupId (each then gets every record)',
          )
        : new InvalidPoolOptionsError(
            optionKey(handlerKey(group[1]!), 'queue'),
            `${names} consume the same ${target} of pool "${pool}", so each would get only some of its messages`,
            'give each handler its own queue (bound to the same exchange, each gets every message), or set shareQueue: true on all of them to make them competing consumers on purpose',
          ),
    );
  }
  return errors;
}

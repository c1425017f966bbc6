import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import {
  checkBoolean,
  checkInt,
  checkKnownKeys,
  checkObject,
  checkOneOf,
  checkString,
  describeOptionValue,
  type OptionBag,
} from '../core/option-checks.js';
import type {
  RabbitBindingDeclaration,
  RabbitExchangeDeclaration,
  RabbitQueueDeclaration,
} from './topology-options.js';

/** `rabbitmq.topology` after validation: every list present (empty when not given). */
export interface ResolvedRabbitTopology {
  readonly exchanges: readonly RabbitExchangeDeclaration[];
  readonly queues: readonly RabbitQueueDeclaration[];
  readonly bindings: readonly RabbitBindingDeclaration[];
}

export const EMPTY_TOPOLOGY: ResolvedRabbitTopology = Object.freeze({
  exchanges: Object.freeze([]),
  queues: Object.freeze([]),
  bindings: Object.freeze([]),
});

const EXCHANGE_TYPES = ['direct', 'topic', 'fanout', 'headers'] as const;
const QUEUE_TYPES = ['classic', 'quorum'] as const;
// amqplib's Options.AssertExchange / AssertQueue: a typo such as `durabel` would be sent as nothing.
const EXCHANGE_OPTION_KEYS = [
  'durable',
  'internal',
  'autoDelete',
  'alternateExchange',
  'arguments',
];
const QUEUE_OPTION_KEYS = [
  'exclusive',
  'durable',
  'autoDelete',
  'arguments',
  'messageTtl',
  'expires',
  'deadLetterExchange',
  'deadLetterRoutingKey',
  'maxLength',
  'maxPriority',
  'overflow',
  'queueMode',
];

/**
 * Validates `rabbitmq.topology` at construction. Bindings may name exchanges and queues this
 * topology does not declare: they may exist on the broker already (declared by another service).
 */
export function validateTopology(value: unknown, key: string): ResolvedRabbitTopology {
  if (value === undefined) return EMPTY_TOPOLOGY;
  const bag = checkObject(value, key, '{ exchanges?, queues?, bindings? }');
  checkKnownKeys(bag, key, ['exchanges', 'queues', 'bindings']);
  const exchanges = list(bag, 'exchanges', key).map((item, i) =>
    exchange(item, `${key}.exchanges[${i}]`),
  );
  const queues = list(bag, 'queues', key).map((item, i) => queue(item, `${key}.queues[${i}]`));
  const bindings = list(bag, 'bindings', key).map((item, i) =>
    binding(item, `${key}.bindings[${i}]`),
  );
  noDuplicateNames(exchanges, `${key}.exchanges`);
  noDuplicateNames(queues, `${key}.queues`);
  return { exchanges, queues, bindings };
}

function list(bag: OptionBag, prop: string, parent: string): unknown[] {
  const value = bag[prop];
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new InvalidPoolOptionsError(
      `${parent}.${prop}`,
      `must be an array, got ${describeOptionValue(value)}`,
      `pass a list of declarations, e.g. [{ name: 'orders', … }]`,
    );
  }
  return value;
}

function exchange(item: unknown, key: string): RabbitExchangeDeclaration {
  const bag = checkObject(item, key, "{ name: 'orders', type: 'topic', options? }");
  checkKnownKeys(bag, key, ['name', 'type', 'options']);
  const name = requiredName(bag, key);
  if (bag['type'] === undefined) {
    throw new InvalidPoolOptionsError(
      `${key}.type`,
      'is missing',
      `set it to one of ${EXCHANGE_TYPES.join(', ')}`,
    );
  }
  const type = checkOneOf(bag, 'type', key, EXCHANGE_TYPES, 'direct');
  const options = declarationOptions(bag, key, EXCHANGE_OPTION_KEYS);
  return options === undefined ? { name, type } : { name, type, options };
}

function queue(item: unknown, key: string): RabbitQueueDeclaration {
  const bag = checkObject(item, key, "{ name: 'orders', type?: 'quorum', options? }");
  checkKnownKeys(bag, key, ['name', 'type', 'options']);
  const name = requiredName(bag, key);
  const type =
    bag['type'] === undefined ? undefined : checkOneOf(bag, 'type', key, QUEUE_TYPES, 'classic');
  const options = declarationOptions(bag, key, QUEUE_OPTION_KEYS);
  if (type === 'quorum' && options !== undefined) {
    // The broker refuses these for a quorum queue (406): say so at boot, with the key.
    for (const [prop, refused] of [
      ['durable', false],
      ['exclusive', true],
      ['autoDelete', true],
    ] as const) {
      if (options[prop] === refused) {
        throw new InvalidPoolOptionsError(
          `${key}.options.${prop}`,
          `cannot be ${refused} for a quorum queue (quorum queues are durable, shared and never auto-deleted)`,
          `remove "${prop}", or use type: 'classic'`,
        );
      }
    }
  }
  const out: RabbitQueueDeclaration = { name };
  if (type !== undefined) out.type = type;
  if (options !== undefined) out.options = options;
  return out;
}

function binding(item: unknown, key: string): RabbitBindingDeclaration {
  const bag = checkObject(
    item,
    key,
    "{ exchange: 'orders', queue: 'orders.created', routingKey? }",
  );
  checkKnownKeys(bag, key, ['exchange', 'queue', 'routingKey', 'arguments']);
  const exchangeName = checkString(bag, 'exchange', key);
  const queueName = checkString(bag, 'queue', key);
  if (exchangeName === undefined || queueName === undefined) {
    const missing = exchangeName === undefined ? 'exchange' : 'queue';
    throw new InvalidPoolOptionsError(
      `${key}.${missing}`,
      'is missing',
      `name the ${missing} to bind (the default exchange '' cannot be bound)`,
    );
  }
  const routingKey = bag['routingKey'];
  if (routingKey !== undefined && typeof routingKey !== 'string') {
    throw new InvalidPoolOptionsError(
      `${key}.routingKey`,
      `must be a string, got ${describeOptionValue(routingKey)}`,
      "pass a binding key such as 'orders.*' ('' binds fanout and headers exchanges)",
    );
  }
  const out: RabbitBindingDeclaration = { exchange: exchangeName, queue: queueName };
  if (routingKey !== undefined) out.routingKey = routingKey;
  if (bag['arguments'] !== undefined)
    out.arguments = checkObject(bag['arguments'], `${key}.arguments`);
  return out;
}

function requiredName(bag: OptionBag, key: string): string {
  const name = checkString(bag, 'name', key);
  if (name === undefined) {
    throw new InvalidPoolOptionsError(
      `${key}.name`,
      'is missing',
      'give the entity a non-empty name',
    );
  }
  return name;
}

/** The amqplib options of a declaration: known keys, booleans as booleans, `arguments` an object. */
function declarationOptions(
  bag: OptionBag,
  key: string,
  allowed: readonly string[],
): Record<string, unknown> | undefined {
  if (bag['options'] === undefined) return undefined;
  const optionsKey = `${key}.options`;
  const options = checkObject(bag['options'], optionsKey);
  checkKnownKeys(options, optionsKey, allowed);
  for (const prop of ['durable', 'internal', 'autoDelete', 'exclusive']) {
    if (allowed.includes(prop)) checkBoolean(options, prop, optionsKey, false);
  }
  for (const prop of ['messageTtl', 'expires', 'maxLength', 'maxPriority']) {
    if (allowed.includes(prop)) checkInt(options, prop, optionsKey, 0, 0);
  }
  for (const prop of [
    'alternateExchange',
    'deadLetterExchange',
    'deadLetterRoutingKey',
    'overflow',
    'queueMode',
  ]) {
    const v = options[prop];
    if (allowed.includes(prop) && v !== undefined && typeof v !== 'string') {
      throw new InvalidPoolOptionsError(
        `${optionsKey}.${prop}`,
        `must be a string, got ${describeOptionValue(v)}`,
        `pass a string or remove "${prop}"`,
      );
    }
  }
  if (options['arguments'] !== undefined)
    checkObject(options['arguments'], `${optionsKey}.arguments`);
  return { ...options };
}

function noDuplicateNames(entities: ReadonlyArray<{ name: string }>, key: string): void {
  const seen = new Map<string, number>();
  entities.forEach(({ name }, i) => {
    const first = seen.get(name);
    if (first !== undefined) {
      throw new InvalidPoolOptionsError(
        `${key}[${i}].name`,
        `"${name}" is declared twice (also at [${first}])`,
        'declare each entity once',
      );
    }
    seen.set(name, i);
  });
}

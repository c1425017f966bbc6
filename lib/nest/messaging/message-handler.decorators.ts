import 'reflect-metadata';
import { InvalidPoolOptionsError } from '../../core/errors/invalid-pool-options.error.js';
import { MESSAGE_HANDLER_METADATA } from './message-handler.constants.js';
import type {
  HandlerDeclaration,
  KafkaSubscribeHandlerOptions,
  RabbitRpcHandlerOptions,
  RabbitSubscribeHandlerOptions,
} from './message-handler-options.js';

/**
 * Subscribes the decorated provider (or controller) method to a RabbitMQ queue. Found at boot,
 * attached after the pools started, re-attached after every reconnect, drained on shutdown.
 *
 * ```ts
 * @RabbitSubscribe({ queue: 'orders', exchange: 'shop', routingKey: 'order.*', retry: { attempts: 3, delayMs: 1000 } })
 * async handle(order: OrderDto, message: RabbitMessage): Promise<void> { … }  // resolve → ack; throw → retry policy
 * ```
 * Nest's guards, interceptors, pipes and exception filters apply (context type `'rmq'`).
 */
export function RabbitSubscribe(options: RabbitSubscribeHandlerOptions): MethodDecorator {
  return declare({ decorator: 'RabbitSubscribe', options });
}

/** Serves RabbitMQ requests (`pool.request()`) on a queue: the method's return value is the reply. */
export function RabbitRpc(options: RabbitRpcHandlerOptions): MethodDecorator {
  return declare({ decorator: 'RabbitRpc', options });
}

/** Runs the decorated method as a managed Kafka consumer of `topics` in `groupId` (context type `'kafka'`). */
export function KafkaSubscribe(options: KafkaSubscribeHandlerOptions): MethodDecorator {
  return declare({ decorator: 'KafkaSubscribe', options });
}

/**
 * Stores the declaration on the method itself (as `SetMetadata` does), so decorators that replace
 * the method later (`@WithChannel()`) carry it over. A method may have several (one per queue).
 */
function declare(declaration: HandlerDeclaration): MethodDecorator {
  return (target, key, descriptor) => {
    const where = `@${declaration.decorator}(${describeMember(target, key)})`;
    if (typeof descriptor?.value !== 'function') {
      throw new InvalidPoolOptionsError(
        where,
        'decorates something that is not a method (a property, getter or setter)',
        `put @${declaration.decorator}() on a method of a provider: async handle(payload, message) { … }`,
      );
    }
    if (typeof target === 'function') {
      throw new InvalidPoolOptionsError(
        where,
        'decorates a static method, which has no provider instance to run on',
        'make it an instance method of a provider (an @Injectable() class listed in a module)',
      );
    }
    const method = descriptor.value as object;
    const existing = (Reflect.getOwnMetadata(MESSAGE_HANDLER_METADATA, method) ??
      []) as HandlerDeclaration[];
    Reflect.defineMetadata(MESSAGE_HANDLER_METADATA, [...existing, declaration], method);
  };
}

function describeMember(target: object, key: string | symbol): string {
  const owner = typeof target === 'function' ? target : target.constructor;
  return `${owner.name}.${String(key)}`;
}

import 'reflect-metadata';
import type { PipeTransform, Type } from '@nestjs/common';
import { InvalidPoolOptionsError } from '../../core/errors/invalid-pool-options.error.js';
import { MESSAGE_PARAMS_METADATA, MessageParamType } from './message-handler.constants.js';

/** One parameter a handler asked for with a decorator. */
export interface MessageParamEntry {
  readonly index: number;
  readonly data: string | undefined;
  readonly pipes: ReadonlyArray<PipeTransform | Type<PipeTransform>>;
}

/** Entries by `"<type>:<index>"`, the shape Nest's `ExternalContextCreator` reads. */
export type MessageParamsMetadata = Record<string, MessageParamEntry>;

/**
 * The payload, or one property of it (`@MessagePayload('id')`), with parameter pipes of its own.
 * Optional: without any parameter decorator, parameter 0 is the payload already.
 */
export function MessagePayload(
  property?: string,
  ...pipes: Array<PipeTransform | Type<PipeTransform>>
): ParameterDecorator {
  return param(MessageParamType.PAYLOAD, property, pipes);
}

/**
 * The `RabbitMessage` / `KafkaMessageContext` (or one property of it: `@MessageContext('headers')`).
 * Optional: without any parameter decorator, parameter 1 is the message already.
 */
export function MessageContext(property?: string): ParameterDecorator {
  return param(MessageParamType.MESSAGE, property, []);
}

function param(
  type: MessageParamType,
  data: string | undefined,
  pipes: Array<PipeTransform | Type<PipeTransform>>,
): ParameterDecorator {
  return (target, key, index) => {
    if (key === undefined) {
      throw new InvalidPoolOptionsError(
        `${(target as { name?: string }).name ?? 'constructor'} parameter ${index}`,
        'a message parameter decorator is on a constructor parameter',
        'put @MessagePayload()/@MessageContext() on a parameter of a message handler method',
      );
    }
    const owner = target.constructor;
    const params = (Reflect.getMetadata(MESSAGE_PARAMS_METADATA, owner, key) ??
      {}) as MessageParamsMetadata;
    Reflect.defineMetadata(
      MESSAGE_PARAMS_METADATA,
      { ...params, [`${type}:${index}`]: { index, data, pipes } },
      owner,
      key,
    );
  };
}

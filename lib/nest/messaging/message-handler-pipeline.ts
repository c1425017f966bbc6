import 'reflect-metadata';
import { HttpException } from '@nestjs/common';
import { CUSTOM_ROUTE_ARGS_METADATA, ROUTE_ARGS_METADATA } from '@nestjs/common/internal';
import type { ExternalContextCreator, ParamsFactory } from '@nestjs/core';
import { NonRetriableError } from '../../core/errors/non-retriable.error.js';
import { copyMethodMetadata } from '../copy-method-metadata.js';
import { MessageRejectedError } from './errors/message-rejected.error.js';
import {
  MESSAGE_PARAMS_METADATA,
  MessageParamType,
  RESOLVED_PARAMS_METADATA,
} from './message-handler.constants.js';
import type { MessageContextType } from './message-handler-options.js';
import type { MessageParamEntry, MessageParamsMetadata } from './message-param.decorators.js';

/** A handler as the pool methods call it: `(payload, message)`. */
export type PipelineHandler = (payload: unknown, message: object) => Promise<unknown>;

/**
 * One call of a handler. The pipeline tells a message it refused (guards, pipes, an interceptor that
 * never called the handler: dead-lettered at once) from a handler that failed (retry policy) by
 * whether the method itself started, which `handlerEntry` records here.
 */
class MessageInvocation {
  handlerStarted = false;
  handlerFailed = false;
}

/**
 * The invocation of each call in flight, by its message object (unique per delivery). Nest hands a
 * handler only the values its parameter list extracts, so the hidden last parameter carries it
 * from here into `handlerEntry`, and `ExecutionContext.getArgs()` stays `[payload, message]`.
 */
const invocations = new WeakMap<object, MessageInvocation>();

const PARAMS_FACTORY: ParamsFactory = {
  exchangeKeyForValue(type: number, data: unknown, args: unknown[]): unknown {
    switch (type) {
      case MessageParamType.PAYLOAD:
        return property(args[0], data);
      case MessageParamType.MESSAGE:
        return property(args[1], data);
      case MessageParamType.INVOCATION:
        return invocations.get(args[1] as object);
      default:
        return undefined;
    }
  },
};

/**
 * Builds the function a pool calls for each message of `instance[methodName]`, through Nest's
 * `ExternalContextCreator` (as @nestjs/microservices does): guards → interceptors → pipes →
 * method, exception filters around it all, with `ExecutionContext.getType()` = `contextType` and
 * `getArgs()` = `[payload, message]`.
 *
 * - Parameter 0 is the payload and parameter 1 the message unless parameter decorators say
 *   otherwise; the payload parameter carries its `design:paramtypes` metatype, so `ValidationPipe`
 *   validates a DTO with no decorator at all.
 * - Refused before the method ran → `MessageRejectedError` (a `NonRetriableError`: dead-lettered
 *   at once, never retried), whatever a filter mapped it to.
 * - A filter that returns a value handles the error: that value is the result (the RPC reply). One
 *   that returns the error itself (GraphQL style) or rethrows leaves it unhandled.
 */
export function createPipelineHandler(
  contexts: ExternalContextCreator,
  instance: object,
  methodName: string,
  handlerName: string,
  contextType: MessageContextType,
): PipelineHandler {
  resolveParams(instance, methodName);
  const original = (instance as Record<string, unknown>)[methodName] as (
    ...args: unknown[]
  ) => unknown;
  const run = contexts.create(
    instance,
    handlerEntry(original),
    methodName,
    RESOLVED_PARAMS_METADATA,
    PARAMS_FACTORY,
    undefined,
    undefined,
    { guards: true, interceptors: true, filters: true },
    contextType,
  ) as (payload: unknown, message: object) => Promise<unknown>;

  return async (payload, message) => {
    const invocation = new MessageInvocation();
    invocations.set(message, invocation);
    try {
      const result = await run(payload, message);
      if (result instanceof Error && (!invocation.handlerStarted || invocation.handlerFailed)) {
        throw result;
      }
      return result;
    } catch (error) {
      if (invocation.handlerStarted || error instanceof NonRetriableError) throw error;
      throw new MessageRejectedError(handlerName, rejectionReason(error), error);
    } finally {
      invocations.delete(message);
    }
  };
}

/**
 * The callback Nest runs last: it takes the hidden invocation parameter off, records that the
 * method started (and whether it failed), and calls the method. Carries the method's metadata, so
 * `Reflector` in guards and interceptors reads `context.getHandler()` as usual.
 */
function handlerEntry(method: (...args: unknown[]) => unknown): (...args: unknown[]) => unknown {
  const entry = function (this: unknown, ...args: unknown[]): unknown {
    const invocation = args.pop() as MessageInvocation | undefined;
    if (invocation) invocation.handlerStarted = true;
    const failed = (error: unknown): never => {
      if (invocation) invocation.handlerFailed = true;
      throw error;
    };
    try {
      const result = method.apply(this, args);
      return result instanceof Promise ? result.catch(failed) : result;
    } catch (error) {
      return failed(error);
    }
  };
  copyMethodMetadata(method, entry);
  return entry;
}

/**
 * The parameter list of the method, for Nest: what `@MessagePayload()`/`@MessageContext()` and
 * custom `createParamDecorator()` decorators ask for, the payload at 0 and the message at 1 where
 * nothing else is, and the hidden invocation parameter after all of them.
 */
function resolveParams(instance: object, methodName: string): void {
  const owner = instance.constructor;
  const own = (Reflect.getMetadata(MESSAGE_PARAMS_METADATA, owner, methodName) ??
    {}) as MessageParamsMetadata;
  const route = (Reflect.getMetadata(ROUTE_ARGS_METADATA, owner, methodName) ?? {}) as Record<
    string,
    MessageParamEntry
  >;
  const params: Record<string, MessageParamEntry> = {};
  for (const [key, entry] of Object.entries(route)) {
    if (key.includes(CUSTOM_ROUTE_ARGS_METADATA)) params[key] = entry;
  }
  Object.assign(params, own);
  const taken = new Set(Object.values(params).map((p) => p.index));
  const add = (type: MessageParamType, index: number): void => {
    params[`${type}:${index}`] = { index, data: undefined, pipes: [] };
  };
  if (!taken.has(0)) add(MessageParamType.PAYLOAD, 0);
  if (!taken.has(1)) add(MessageParamType.MESSAGE, 1);
  add(MessageParamType.INVOCATION, Math.max(1, ...taken) + 1);
  Reflect.defineMetadata(RESOLVED_PARAMS_METADATA, params, owner, methodName);
}

function property(value: unknown, key: unknown): unknown {
  if (typeof key !== 'string' || value === null || typeof value !== 'object') return value;
  return (value as Record<string, unknown>)[key];
}

/** What the pipeline said, readable in a dead-letter header: `ValidationPipe`'s list, or the message. */
function rejectionReason(error: unknown): string {
  if (error instanceof HttpException) {
    const response = error.getResponse();
    const detail =
      typeof response === 'object' && response !== null
        ? (response as { message?: unknown }).message
        : response;
    if (Array.isArray(detail)) return detail.map(String).join('; ');
    if (typeof detail === 'string') return detail;
  }
  return error instanceof Error ? error.message : String(error);
}

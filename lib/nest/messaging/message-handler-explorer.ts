import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryService, ExternalContextCreator, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { MqPoolReadiness } from '../../health/mq-pool-readiness.js';
import { AppPools } from '../app-pools.js';
import {
  checkMessageHandlers,
  type DeclaredHandler,
  poolNameOf,
} from './check-message-handlers.js';
import { InvalidMessageHandlersError } from './errors/invalid-message-handlers.error.js';
import { HandlerAttachment } from './handler-attachment.js';
import { MESSAGE_HANDLER_METADATA } from './message-handler.constants.js';
import type { HandlerDeclaration } from './message-handler-options.js';
import { createPipelineHandler } from './message-handler-pipeline.js';

/**
 * Finds the `@RabbitSubscribe`/`@RabbitRpc`/`@KafkaSubscribe` methods of every provider and
 * controller at `onApplicationBootstrap` (after every registration started its pools in
 * `onModuleInit`), the way @nestjs/bullmq finds processors:
 * 1. discover them (DiscoveryService + MetadataScanner);
 * 2. check them ALL (scope, options, pool, duplicates) — any mistake fails startup with every
 *    mistake listed, before anything attached;
 * 3. build each handler's Nest pipeline (guards, interceptors, pipes, filters);
 * 4. attach them all; with `startup.failFast`, one failed attach detaches the others and fails
 *    startup, so nothing runs half-started.
 * Readiness is down until every one is attached. On shutdown the pools drain the subscriptions
 * (deliveries stop, in-flight handlers finish and are acked, then channels close).
 */
@Injectable()
export class MessageHandlerExplorer
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private attachments: HandlerAttachment[] = [];
  private untrack: (() => void) | undefined;

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(ExternalContextCreator) private readonly contexts: ExternalContextCreator,
    @Inject(AppPools) private readonly pools: AppPools,
    @Inject(MqPoolReadiness) private readonly readiness: MqPoolReadiness,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const handlers = this.discover();
    if (handlers.length === 0) return;
    const errors = checkMessageHandlers(handlers, this.pools.all());
    if (errors.length === 1) throw errors[0]!;
    if (errors.length > 1) throw new InvalidMessageHandlersError(errors);

    const entries = this.pools.all();
    const attachments = handlers.map((handler) => {
      const entry = entries.find((e) => e.name === poolNameOf(handler.declaration))!;
      const contextType = handler.declaration.decorator === 'KafkaSubscribe' ? 'kafka' : 'rmq';
      const run = createPipelineHandler(
        this.contexts,
        handler.instance,
        handler.methodName,
        handler.name,
        contextType,
      );
      return new HandlerAttachment(handler, entry, run);
    });
    this.attachments = attachments;
    this.untrack = this.readiness.trackHandlers(attachments);

    const results = await Promise.allSettled(attachments.map((a) => a.attach()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      await Promise.allSettled(attachments.map((a) => a.detach()));
      throw failed.reason;
    }
  }

  beforeApplicationShutdown(): void {
    for (const a of this.attachments) a.stop();
  }

  onApplicationShutdown(): void {
    for (const a of this.attachments) a.stop();
    this.untrack?.();
    this.untrack = undefined;
  }

  /** Every decorated method of every provider and controller, each instance once. */
  private discover(): DeclaredHandler[] {
    const found: DeclaredHandler[] = [];
    const seen = new Set<object>();
    const wrappers = [...this.discovery.getProviders(), ...this.discovery.getControllers()];
    for (const wrapper of wrappers) {
      if (wrapper.isAlias) continue;
      const host = hostOf(wrapper);
      if (host === undefined || seen.has(host.instance)) continue;
      seen.add(host.instance);
      for (const methodName of this.scanner.getAllMethodNames(host.prototype)) {
        const method = (host.prototype as Record<string, unknown>)[methodName];
        if (typeof method !== 'function') continue;
        const declarations = Reflect.getMetadata(MESSAGE_HANDLER_METADATA, method) as
          HandlerDeclaration[] | undefined;
        for (const declaration of declarations ?? []) {
          found.push({
            name: `${host.className}.${methodName}`,
            declaration,
            instance: host.instance,
            methodName,
            ...(host.scopeProblem === undefined ? {} : { scopeProblem: host.scopeProblem }),
          });
        }
      }
    }
    return found;
  }
}

interface Host {
  instance: object;
  prototype: object;
  className: string;
  scopeProblem?: string;
}

/** The object whose methods a wrapper's handlers run on, or why there is none to run them on. */
function hostOf(wrapper: InstanceWrapper): Host | undefined {
  const metatype = wrapper.metatype as { prototype?: unknown; name?: unknown } | null | undefined;
  const className = typeof metatype?.name === 'string' ? metatype.name : String(wrapper.name);
  if (!wrapper.isDependencyTreeStatic() || wrapper.isTransient) {
    // No single instance exists; look at the class only, to report the handler as unsupported.
    const prototype = typeof metatype === 'function' ? metatype.prototype : undefined;
    if (typeof prototype !== 'object' || prototype === null) return undefined;
    return {
      instance: prototype,
      prototype,
      className,
      scopeProblem: wrapper.isTransient
        ? `${className} is a transient provider (one instance per consumer), so no single instance can receive the messages`
        : `${className} is request-scoped (or depends on a request-scoped provider), and a message arrives outside any HTTP request; request-scoped message handlers are not supported`,
    };
  }
  const instance: unknown = wrapper.instance;
  if (typeof instance !== 'object' || instance === null) return undefined;
  const prototype = Object.getPrototypeOf(instance) as object | null;
  if (prototype === null) return undefined;
  return { instance, prototype, className: instance.constructor.name || className };
}

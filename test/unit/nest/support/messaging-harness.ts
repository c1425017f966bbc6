import type { INestApplication, Provider, Type } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import type { MqLogger } from '../../../../lib/core/logger.js';
import { MqPoolReadiness } from '../../../../lib/health/mq-pool-readiness.js';
import type { KafkaConsumerHandle } from '../../../../lib/kafka/kafka-consumer.js';
import type {
  KafkaHandler,
  KafkaMessaging,
  KafkaSubscribeOptions,
} from '../../../../lib/kafka/kafka-subscribe-options.js';
import { AppPools } from '../../../../lib/nest/app-pools.js';
import { MessageHandlerExplorer } from '../../../../lib/nest/messaging/message-handler-explorer.js';
import type { ResolvedMqPoolModuleOptions } from '../../../../lib/nest/mq-pool-module-options.js';
import type { RabbitMessage } from '../../../../lib/rabbitmq/rabbit-message.js';
import type {
  RabbitHandler,
  RabbitMessaging,
  RabbitRpcOptions,
  RabbitSubscribeOptions,
  RabbitSubscription,
} from '../../../../lib/rabbitmq/subscribe-options.js';

/** One `subscribe()`/`serveRpc()` a fake pool received: the options and the handler Nest built. */
export interface FakeSubscription extends RabbitSubscription {
  readonly kind: 'subscribe' | 'rpc';
  readonly options: RabbitSubscribeOptions | RabbitRpcOptions;
  readonly handler: RabbitHandler<unknown, unknown>;
  active: boolean;
  cancelled: boolean;
}

/**
 * Stands in for the pool methods the Nest layer calls (the adapters test the broker side against
 * real brokers): records each subscription and hands its handler to the test. `fail` makes the
 * next subscribe calls reject.
 */
export class FakeRabbitMessaging implements RabbitMessaging {
  readonly subscriptions: FakeSubscription[] = [];
  fail: Error | undefined;

  subscribe<T>(options: RabbitSubscribeOptions, handler: RabbitHandler<T>) {
    return this.add('subscribe', options, handler as RabbitHandler<unknown, unknown>);
  }

  serveRpc<T, R>(options: RabbitRpcOptions, handler: RabbitHandler<T, R>) {
    return this.add('rpc', options, handler as RabbitHandler<unknown, unknown>);
  }

  async request<R>(): Promise<R> {
    throw new Error('not used by these tests');
  }

  /** The handler subscribed to `queue`. */
  handler(queue: string): RabbitHandler<unknown, unknown> {
    const s = this.subscriptions.find((x) => x.options.queue === queue);
    if (!s) throw new Error(`nothing subscribed to ${queue}`);
    return s.handler;
  }

  private async add(
    kind: 'subscribe' | 'rpc',
    options: RabbitSubscribeOptions | RabbitRpcOptions,
    handler: RabbitHandler<unknown, unknown>,
  ): Promise<RabbitSubscription> {
    await Promise.resolve();
    if (this.fail) throw this.fail;
    const s: FakeSubscription = {
      kind,
      options,
      handler,
      queue: options.queue,
      active: true,
      cancelled: false,
      inFlight: 0,
      cancel: async () => {
        s.cancelled = true;
        s.active = false;
      },
    };
    this.subscriptions.push(s);
    return s;
  }
}

export interface FakeKafkaSubscription {
  readonly options: KafkaSubscribeOptions;
  readonly handler: KafkaHandler<unknown>;
  state: KafkaConsumerHandle['state'];
}

export class FakeKafkaMessaging implements KafkaMessaging {
  readonly subscriptions: FakeKafkaSubscription[] = [];

  async subscribe<T>(
    options: KafkaSubscribeOptions,
    handler: KafkaHandler<T>,
  ): Promise<KafkaConsumerHandle> {
    const s: FakeKafkaSubscription = {
      options,
      handler: handler as KafkaHandler<unknown>,
      state: 'running',
    };
    this.subscriptions.push(s);
    return {
      groupId: options.groupId,
      get state() {
        return s.state;
      },
      stats: () => {
        throw new Error('not used');
      },
      stop: async () => {
        s.state = 'stopped';
        return { groupId: options.groupId, durationMs: 0, timedOut: false, inFlightAtDeadline: 0 };
      },
    };
  }
}

export function recordingLogger(): MqLogger & { lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (message: string) => lines.push(`${level}: ${message}`);
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export interface FakeRegistration {
  name?: string;
  rabbitmq?: FakeRabbitMessaging;
  kafka?: FakeKafkaMessaging;
  failFast?: boolean;
  logger?: MqLogger;
}

/**
 * A Nest app holding `providers`/`controllers`, the real explorer and readiness, and fake pools
 * registered as `MqPoolModule` registrations would be (by default one "default" registration with
 * both brokers). `configure` runs before `init()` (global pipes, guards…).
 */
export async function bootHandlers(
  hosts: { providers?: Provider[]; controllers?: Type<unknown>[] },
  registrations: FakeRegistration[] = [
    { rabbitmq: new FakeRabbitMessaging(), kafka: new FakeKafkaMessaging() },
  ],
  configure?: (app: INestApplication) => void,
): Promise<{ app: INestApplication; readiness: MqPoolReadiness }> {
  const pools = new AppPools();
  for (const r of registrations) {
    const name = r.name ?? 'default';
    pools.add({
      name,
      options: {
        name,
        failFast: r.failFast ?? true,
        logger: r.logger ?? recordingLogger(),
      } as unknown as ResolvedMqPoolModuleOptions,
      rabbitmq: r.rabbitmq as never,
      kafka: r.kafka as never,
    });
  }
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    controllers: hosts.controllers ?? [],
    providers: [
      ...(hosts.providers ?? []),
      { provide: AppPools, useValue: pools },
      MqPoolReadiness,
      MessageHandlerExplorer,
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  configure?.(app);
  await app.init();
  return { app, readiness: app.get(MqPoolReadiness) };
}

/** A delivery as the RabbitMQ adapter hands it to a handler. */
export function rabbitMessage(over: Partial<RabbitMessage> = {}): RabbitMessage {
  return {
    content: Buffer.from('{}'),
    fields: {} as RabbitMessage['fields'],
    properties: {} as RabbitMessage['properties'],
    headers: {},
    messageId: 'm-1',
    redelivered: false,
    attempt: 1,
    raw: {} as RabbitMessage['raw'],
    ...over,
  };
}

import { Controller, Injectable, Scope } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  InvalidMessageHandlersError,
  InvalidPoolOptionsError,
  KafkaSubscribe,
  MessagePayload,
  RabbitRpc,
  RabbitSubscribe,
} from '../../../lib/index.js';
import {
  bootHandlers,
  FakeKafkaMessaging,
  FakeRabbitMessaging,
  recordingLogger,
} from './support/messaging-harness.js';
import type { INestApplication } from '@nestjs/common';

let app: INestApplication | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
});

async function boot(...args: Parameters<typeof bootHandlers>) {
  const booted = await bootHandlers(...args);
  app = booted.app;
  return booted;
}

describe('declarative handlers: discovery', () => {
  it('attaches every decorated method of providers and controllers, passing the pool methods their own options', async () => {
    @Injectable()
    class Orders {
      @RabbitSubscribe({
        queue: 'orders',
        exchange: 'shop',
        routingKey: ['order.created', 'order.paid'],
        prefetch: 5,
        retry: { attempts: 3, delayMs: [100, 500] },
        deadLetter: false,
      })
      async created(): Promise<void> {}

      @RabbitRpc({ queue: 'orders.price' })
      async price(): Promise<number> {
        return 1;
      }

      notAHandler(): void {}
    }
    @Controller()
    class Events {
      @KafkaSubscribe({ topics: 'events', groupId: 'g1', fromBeginning: true })
      async on(): Promise<void> {}
    }
    const rabbit = new FakeRabbitMessaging();
    const kafka = new FakeKafkaMessaging();
    await boot({ providers: [Orders], controllers: [Events] }, [{ rabbitmq: rabbit, kafka }]);

    expect(rabbit.subscriptions.map((s) => [s.kind, s.options])).toEqual([
      [
        'subscribe',
        {
          queue: 'orders',
          exchange: 'shop',
          routingKey: ['order.created', 'order.paid'],
          prefetch: 5,
          retry: { attempts: 3, delayMs: [100, 500] },
          deadLetter: false,
        },
      ],
      ['rpc', { queue: 'orders.price' }],
    ]);
    expect(kafka.subscriptions.map((s) => s.options)).toEqual([
      { topics: 'events', groupId: 'g1', fromBeginning: true },
    ]);
  });

  it('runs a handler on its named pool, and strips `pool` and `shareQueue` from what the pool gets', async () => {
    @Injectable()
    class Audit {
      @RabbitSubscribe({ queue: 'audit', pool: 'audit', shareQueue: true })
      async on(): Promise<void> {}
    }
    const main = new FakeRabbitMessaging();
    const audit = new FakeRabbitMessaging();
    await boot({ providers: [Audit] }, [{ rabbitmq: main }, { name: 'audit', rabbitmq: audit }]);
    expect(main.subscriptions).toEqual([]);
    expect(audit.subscriptions.map((s) => s.options)).toEqual([{ queue: 'audit' }]);
  });

  it('one method may carry several declarations (one subscription each)', async () => {
    @Injectable()
    class Fanin {
      @RabbitSubscribe({ queue: 'a' })
      @RabbitSubscribe({ queue: 'b' })
      async on(): Promise<void> {}
    }
    const rabbit = new FakeRabbitMessaging();
    await boot({ providers: [Fanin] }, [{ rabbitmq: rabbit }]);
    expect(rabbit.subscriptions.map((s) => s.queue).sort()).toEqual(['a', 'b']);
  });
});

describe('declarative handlers: bad input fails startup, naming Class.method, with nothing attached', () => {
  it('the decorator on a property, a getter or a static method throws at decoration time', () => {
    const onProperty = () => {
      class P {
        // @ts-expect-error — a property is not a method
        @RabbitSubscribe({ queue: 'q' })
        value = 1;
      }
      return P;
    };
    expect(onProperty).toThrow(InvalidPoolOptionsError);
    expect(onProperty).toThrow(/@RabbitSubscribe\(P\.value\).*not a method/);

    const onGetter = () => {
      class G {
        @KafkaSubscribe({ topics: 't', groupId: 'g' })
        get value(): number {
          return 1;
        }
      }
      return G;
    };
    expect(onGetter).toThrow(/@KafkaSubscribe\(G\.value\).*not a method/);

    const onStatic = () => {
      class S {
        @RabbitRpc({ queue: 'q' })
        static async handle(): Promise<void> {}
      }
      return S;
    };
    expect(onStatic).toThrow(/@RabbitRpc\(S\.handle\).*static method/);
  });

  it('a message parameter decorator on a constructor parameter throws at decoration time', () => {
    const onConstructor = () => {
      class C {
        constructor(@MessagePayload() readonly value: unknown) {}
      }
      return C;
    };
    expect(onConstructor).toThrow(/C parameter 0.*constructor parameter/);
  });

  it('two handlers on one queue of one pool', async () => {
    @Injectable()
    class A {
      @RabbitSubscribe({ queue: 'orders' })
      async one(): Promise<void> {}
    }
    @Injectable()
    class B {
      @RabbitRpc({ queue: 'orders' })
      async two(): Promise<void> {}
    }
    const rabbit = new FakeRabbitMessaging();
    const err = await boot({ providers: [A, B] }, [{ rabbitmq: rabbit }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidPoolOptionsError);
    expect((err as Error).message).toMatch(
      /@RabbitSubscribe\(A\.one\) and @RabbitRpc\(B\.two\) consume the same queue "orders" of pool "default"/,
    );
    expect((err as Error).message).toMatch(/shareQueue: true/);
    expect(rabbit.subscriptions).toEqual([]);
  });

  it('competing consumers on one queue are fine when every one of them opts in, and so is one queue name on two pools', async () => {
    @Injectable()
    class A {
      @RabbitSubscribe({ queue: 'jobs', shareQueue: true })
      async one(): Promise<void> {}

      @RabbitSubscribe({ queue: 'jobs', shareQueue: true })
      async two(): Promise<void> {}

      @RabbitSubscribe({ queue: 'jobs', pool: 'other' })
      async three(): Promise<void> {}
    }
    const main = new FakeRabbitMessaging();
    const other = new FakeRabbitMessaging();
    await boot({ providers: [A] }, [{ rabbitmq: main }, { name: 'other', rabbitmq: other }]);
    expect(main.subscriptions).toHaveLength(2);
    expect(other.subscriptions).toHaveLength(1);
  });

  it('only one of two handlers opting in is still a mistake', async () => {
    @Injectable()
    class A {
      @RabbitSubscribe({ queue: 'jobs', shareQueue: true })
      async one(): Promise<void> {}

      @RabbitSubscribe({ queue: 'jobs' })
      async two(): Promise<void> {}
    }
    await expect(boot({ providers: [A] })).rejects.toThrow(/same queue "jobs"/);
  });

  it('two Kafka handlers in one consumer group of one pool', async () => {
    @Injectable()
    class A {
      @KafkaSubscribe({ topics: 'a', groupId: 'billing' })
      async one(): Promise<void> {}

      @KafkaSubscribe({ topics: 'b', groupId: 'billing' })
      async two(): Promise<void> {}
    }
    await expect(boot({ providers: [A] })).rejects.toThrow(
      /@KafkaSubscribe\(A\.one\) and @KafkaSubscribe\(A\.two\) join the same kafka group "billing"/,
    );
  });

  it('an unknown pool name', async () => {
    @Injectable()
    class A {
      @RabbitSubscribe({ queue: 'q', pool: 'ordrs' })
      async on(): Promise<void> {}
    }
    const err = await boot({ providers: [A] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidPoolOptionsError);
    expect(err).toMatchObject({ key: '@RabbitSubscribe(A.on).pool' });
    expect((err as Error).message).toMatch(
      /no MqPoolModule registration is named "ordrs" \(registered: "default"\)/,
    );
  });

  it('a handler whose registration has no options for its broker', async () => {
    @Injectable()
    class A {
      @KafkaSubscribe({ topics: 't', groupId: 'g' })
      async on(): Promise<void> {}
    }
    const err = await boot({ providers: [A] }, [{ rabbitmq: new FakeRabbitMessaging() }]).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidPoolOptionsError);
    expect((err as Error).message).toMatch(
      /@KafkaSubscribe\(A\.on\).*registration "default" has no `kafka` options/,
    );
  });

  it('an invalid retry policy', async () => {
    @Injectable()
    class A {
      @RabbitSubscribe({ queue: 'q', retry: { attempts: 0, delayMs: 100 } })
      async on(): Promise<void> {}
    }
    const err = await boot({ providers: [A] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidPoolOptionsError);
    expect(err).toMatchObject({ key: '@RabbitSubscribe(A.on).retry.attempts' });
  });

  it('a missing queue, topic list or group id', async () => {
    @Injectable()
    class A {
      @RabbitSubscribe({ queue: '' })
      async one(): Promise<void> {}

      @KafkaSubscribe({ topics: [], groupId: 'g' })
      async two(): Promise<void> {}

      @KafkaSubscribe({ topics: 't' } as never)
      async three(): Promise<void> {}
    }
    const err = await boot({ providers: [A] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidMessageHandlersError);
    expect((err as InvalidMessageHandlersError).errors.map((e) => e.key)).toEqual([
      '@RabbitSubscribe(A.one).queue',
      '@KafkaSubscribe(A.two).topics',
      '@KafkaSubscribe(A.three).groupId',
    ]);
  });

  it('a request-scoped provider (not supported: a message arrives outside any request)', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {
      @RabbitSubscribe({ queue: 'q' })
      async on(): Promise<void> {}
    }
    const err = await boot({ providers: [PerRequest] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidPoolOptionsError);
    expect((err as Error).message).toMatch(
      /@RabbitSubscribe\(PerRequest\.on\).*request-scoped.*not supported/,
    );
  });

  it('every mistake is reported at once, and no handler is attached — not even the valid ones', async () => {
    @Injectable()
    class Good {
      @RabbitSubscribe({ queue: 'fine' })
      async on(): Promise<void> {}
    }
    @Injectable()
    class Bad {
      @RabbitSubscribe({ queue: 'q', pool: 'nope' })
      async one(): Promise<void> {}

      @RabbitSubscribe({ queue: 'r', retry: { attempts: 2, delayMs: -1 } })
      async two(): Promise<void> {}
    }
    const rabbit = new FakeRabbitMessaging();
    const err = await boot({ providers: [Good, Bad] }, [{ rabbitmq: rabbit }]).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(InvalidMessageHandlersError);
    expect((err as Error).message).toMatch(
      /2 message handlers are misconfigured \(none was started\)/,
    );
    expect((err as Error).message).toMatch(/Bad\.one\)\.pool/);
    expect((err as Error).message).toMatch(/Bad\.two\)\.retry\.delayMs/);
    expect(rabbit.subscriptions).toEqual([]);
  });
});

describe('declarative handlers: attach and readiness', () => {
  @Injectable()
  class Two {
    @RabbitSubscribe({ queue: 'one' })
    async one(): Promise<void> {}

    @KafkaSubscribe({ topics: 't', groupId: 'g' })
    async two(): Promise<void> {}
  }

  it('with startup.failFast, a failed attach fails startup and detaches what did attach', async () => {
    @Injectable()
    class Mixed {
      @KafkaSubscribe({ topics: 't', groupId: 'g' })
      async ok(): Promise<void> {}

      @RabbitSubscribe({ queue: 'broken' })
      async broken(): Promise<void> {}
    }
    const rabbit = new FakeRabbitMessaging();
    rabbit.fail = new Error('406 PRECONDITION_FAILED');
    const kafka = new FakeKafkaMessaging();
    await expect(
      boot({ providers: [Mixed] }, [{ rabbitmq: rabbit, kafka, failFast: true }]),
    ).rejects.toThrow('406 PRECONDITION_FAILED');
    expect(kafka.subscriptions.map((s) => s.state)).toEqual(['stopped']);
  });

  it('without failFast, a failed attach is logged, startup goes on and readiness stays down naming the handler', async () => {
    const rabbit = new FakeRabbitMessaging();
    rabbit.fail = new Error('no consumer connection came up');
    const logger = recordingLogger();
    const { readiness } = await boot({ providers: [Two] }, [
      { rabbitmq: rabbit, kafka: new FakeKafkaMessaging(), failFast: false, logger },
    ]);
    expect(logger.lines.join('\n')).toMatch(
      /error: @RabbitSubscribe\(Two\.one\) could not attach: Error: no consumer connection came up — retrying in the background/,
    );
    expect(readiness.handlersDownReason('rabbitmq', 'default')).toBe(
      'message handlers not attached (0/1 attached; waiting: Two.one)',
    );
    expect(readiness.handlersDownReason('kafka', 'default')).toBeUndefined();
  });

  it('without failFast, the attach is retried in the background until it succeeds; readiness comes up then', async () => {
    const rabbit = new FakeRabbitMessaging();
    rabbit.fail = new Error('broker down');
    const { readiness } = await boot({ providers: [Two] }, [
      { rabbitmq: rabbit, kafka: new FakeKafkaMessaging(), failFast: false },
    ]);
    expect(readiness.handlersDownReason('rabbitmq', 'default')).toMatch(/waiting: Two\.one/);
    rabbit.fail = undefined;
    // The first retry comes within the backoff's first ceiling (1 s, full jitter).
    const deadline = Date.now() + 3_000;
    while (rabbit.subscriptions.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(rabbit.subscriptions.map((s) => s.queue)).toEqual(['one']);
    expect(readiness.handlersDownReason('rabbitmq', 'default')).toBeUndefined();
  });

  it('shutdown stops the background retries', async () => {
    const rabbit = new FakeRabbitMessaging();
    rabbit.fail = new Error('broker down');
    let attempts = 0;
    const subscribe = rabbit.subscribe.bind(rabbit);
    rabbit.subscribe = ((...args: Parameters<typeof subscribe>) => {
      attempts++;
      return subscribe(...args);
    }) as typeof rabbit.subscribe;
    const booted = await boot({ providers: [Two] }, [
      { rabbitmq: rabbit, kafka: new FakeKafkaMessaging(), failFast: false },
    ]);
    await booted.app.close();
    app = undefined;
    const after = attempts;
    rabbit.fail = undefined;
    await new Promise((r) => setTimeout(r, 1_200));
    expect(attempts).toBe(after);
    expect(rabbit.subscriptions).toEqual([]);
  });

  it('readiness follows each subscription: down while one re-attaches, up again after', async () => {
    const rabbit = new FakeRabbitMessaging();
    const kafka = new FakeKafkaMessaging();
    const { readiness } = await boot({ providers: [Two] }, [{ rabbitmq: rabbit, kafka }]);
    expect(readiness.handlersDownReason('rabbitmq', 'default')).toBeUndefined();
    rabbit.subscriptions[0]!.active = false;
    kafka.subscriptions[0]!.state = 'restarting';
    expect(readiness.handlersDownReason('rabbitmq', 'default')).toMatch(/waiting: Two\.one/);
    expect(readiness.handlersDownReason('kafka', 'default')).toMatch(/waiting: Two\.two/);
    rabbit.subscriptions[0]!.active = true;
    kafka.subscriptions[0]!.state = 'running';
    expect(readiness.handlersDownReason('rabbitmq', 'default')).toBeUndefined();
    expect(readiness.handlersDownReason('kafka', 'default')).toBeUndefined();
  });

  it('an app without handlers attaches nothing and tracks nothing', async () => {
    const rabbit = new FakeRabbitMessaging();
    const { readiness } = await boot({ providers: [] }, [{ rabbitmq: rabbit }]);
    expect(rabbit.subscriptions).toEqual([]);
    expect(readiness.handlersDownReason('rabbitmq', 'default')).toBeUndefined();
  });
});

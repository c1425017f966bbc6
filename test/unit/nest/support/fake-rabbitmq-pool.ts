import type { ConfirmChannel } from 'amqplib';
import type { ChannelScope } from '../../../../lib/rabbitmq/channel-scope.js';
import { ChannelScopes } from '../../../../lib/rabbitmq/channel-scopes.js';
import type { ChannelLease, RabbitMqPool } from '../../../../lib/index.js';
import { poolRegistry } from '../../../../lib/nest/pool-registry.js';

/** Just enough of a confirm channel to tell channels apart and see them closed. */
export class FakeChannel {
  static next = 0;
  readonly id = ++FakeChannel.next;
  closed = false;
  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * An in-memory stand-in for RabbitMqPool with its leasing semantics (exclusive leases, lazy
 * channel scopes in an AsyncLocalStorage, re-entrant withChannel, dead channels destroyed on
 * release) and counters the tests assert on. `gate` holds acquires until opened.
 */
export class FakeRabbitMqPool {
  readonly name: string;
  acquired = 0;
  leased = 0;
  destroyed = 0;
  /** Acquires held at the gate right now. */
  waiting = 0;
  /** Acquires whose wait was cancelled through their AbortSignal. */
  cancelled = 0;
  gate: Promise<void> | undefined;
  // The real pool's scoping, over this fake's acquire.
  private readonly scopes = new ChannelScopes((opts) => this.acquire(opts));

  constructor(name = 'default') {
    this.name = name;
  }

  async acquire(opts?: { signal?: AbortSignal }): Promise<ChannelLease> {
    if (this.gate) {
      const signal = opts?.signal;
      this.waiting++;
      try {
        await new Promise<void>((resolve, reject) => {
          if (signal?.aborted) return reject(signal.reason);
          signal?.addEventListener(
            'abort',
            () => {
              this.cancelled++;
              reject(signal.reason);
            },
            { once: true },
          );
          void this.gate!.then(resolve);
        });
      } finally {
        this.waiting--;
      }
    }
    this.acquired++;
    this.leased++;
    const channel = new FakeChannel();
    let ended = false;
    return {
      get channel() {
        if (ended) throw new Error('lease released');
        return channel as unknown as ConfirmChannel;
      },
      get alive() {
        return !channel.closed;
      },
      release: () => {
        if (ended) return;
        ended = true;
        this.leased--;
        if (channel.closed) this.destroyed++;
      },
      [Symbol.asyncDispose]: async () => undefined,
    };
  }

  withChannel<T>(fn: (ch: ConfirmChannel) => Promise<T>): Promise<T> {
    return this.scopes.withChannel(fn);
  }

  currentChannel(): ConfirmChannel | undefined {
    return this.scopes.currentChannel();
  }

  createChannelScope(lease?: ChannelLease): ChannelScope {
    return this.scopes.create(lease);
  }

  runInChannelScope<T>(scope: ChannelScope, fn: () => T): T {
    return this.scopes.run(scope, fn);
  }

  asPool(): RabbitMqPool {
    return this as unknown as RabbitMqPool;
  }
}

/** Registers `pool` in the process registry under `name`; returns the un-register function. */
export function registerFake(pool: FakeRabbitMqPool, name = pool.name): () => void {
  const owner = {};
  poolRegistry.register(name, owner, { rabbitmq: pool.asPool(), kafka: undefined });
  return () => poolRegistry.unregister(name, owner);
}

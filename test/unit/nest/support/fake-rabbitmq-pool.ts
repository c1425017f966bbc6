import type { ConfirmChannel } from 'amqplib';
import type { AcquireOptions } from '../../../../lib/core/pool.js';
import type { RabbitMqPool } from '../../../../lib/index.js';
import { poolRegistry } from '../../../../lib/nest/pool-registry.js';
import {
  ChannelScope,
  type LeaseSource,
  type ScopeLease,
  withChannel,
} from '../../../../lib/rabbitmq/channel-scope.js';

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
 * An in-memory stand-in for RabbitMqPool with its leasing semantics (exclusive leases; the real
 * channel scopes, so re-entrant withChannel and the Nest request's handles work as in the real
 * pool; a destroyed lease closes its channel) and counters the tests assert on. `gate` holds
 * acquires until opened.
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
  readonly leases: LeaseSource = { acquire: (opts) => this.acquire(opts) };

  constructor(name = 'default') {
    this.name = name;
  }

  async acquire(opts?: AcquireOptions): Promise<ScopeLease> {
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
    const end = (): boolean => {
      if (ended) return false;
      ended = true;
      this.leased--;
      return true;
    };
    return {
      get channel() {
        if (ended) throw new Error('lease released');
        return channel as unknown as ConfirmChannel;
      },
      get alive() {
        return !channel.closed;
      },
      release: () => {
        if (end() && channel.closed) this.destroyed++;
      },
      destroy: async () => {
        if (!end()) return;
        await channel.close();
        this.destroyed++;
      },
      [Symbol.asyncDispose]: async () => undefined,
    };
  }

  withChannel<T>(fn: (ch: ConfirmChannel) => Promise<T>): Promise<T> {
    return withChannel(this.leases, fn);
  }

  currentChannel(): ConfirmChannel | undefined {
    return ChannelScope.current(this.leases)?.channel;
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

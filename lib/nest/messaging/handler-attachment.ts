import { fullJitterBackoff } from '../../core/backoff.js';
import { retryLogLevel } from '../../core/logger.js';
import { errorMessage } from '../../core/with-deadline.js';
import type { ReadinessHandler } from '../../health/mq-pool-readiness.js';
import type { KafkaConsumerHandle } from '../../kafka/kafka-consumer.js';
import type { KafkaMessaging } from '../../kafka/kafka-subscribe-options.js';
import type { RabbitMessaging, RabbitSubscription } from '../../rabbitmq/subscribe-options.js';
import type { AppPoolEntry } from '../app-pools.js';
import type { PoolKind } from '../mq-pool.constants.js';
import { type DeclaredHandler, handlerKey, poolKindOf } from './check-message-handlers.js';
import type { PipelineHandler } from './message-handler-pipeline.js';

/** Retries of a first attach that failed while `startup.failFast` is false. */
const ATTACH_BACKOFF = { initialDelayMs: 1_000, maxDelayMs: 30_000 };

type Subscription = RabbitSubscription | KafkaConsumerHandle;

/**
 * One declared handler and its subscription on the pool. `attach()` subscribes once; with
 * `startup.failFast` a failure fails startup, without it the attach is retried in the background
 * (with backoff) while readiness stays down. After the first attach the pool owns the
 * subscription: it re-attaches it after reconnects and drains it on shutdown.
 */
export class HandlerAttachment implements ReadinessHandler {
  readonly kind: PoolKind;
  readonly pool: string;
  readonly name: string;
  private subscription: Subscription | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = false;

  constructor(
    private readonly handler: DeclaredHandler,
    private readonly entry: AppPoolEntry,
    private readonly run: PipelineHandler,
  ) {
    this.kind = poolKindOf(handler.declaration);
    this.pool = entry.name;
    this.name = handler.name;
  }

  get attached(): boolean {
    const s = this.subscription;
    if (s === undefined) return false;
    return 'active' in s ? s.active : s.state === 'running';
  }

  /** Subscribes; rejects only when it failed and the registration has `startup.failFast`. */
  async attach(): Promise<void> {
    try {
      await this.subscribe();
    } catch (error) {
      if (this.entry.options.failFast) throw error;
      this.retryLater(1, error);
    }
  }

  /** Stops retrying; the pool's drain takes care of an attached subscription. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.retryTimer);
  }

  /** Undoes a successful attach (startup failed elsewhere: nothing stays half-started). */
  async detach(): Promise<void> {
    this.stop();
    const s = this.subscription;
    this.subscription = undefined;
    if (s === undefined) return;
    await ('cancel' in s ? s.cancel() : s.stop());
  }

  private async subscribe(): Promise<void> {
    const subscription = await this.open();
    if (this.stopped) {
      // The app began shutting down while this attach was under way.
      await ('cancel' in subscription ? subscription.cancel() : subscription.stop());
      return;
    }
    this.subscription = subscription;
  }

  private open(): Promise<Subscription> {
    const { declaration } = this.handler;
    const run = this.run;
    switch (declaration.decorator) {
      case 'RabbitSubscribe': {
        const { pool: _pool, shareQueue: _share, ...options } = declaration.options;
        return this.rabbit().subscribe(options, async (payload, message) => {
          await run(payload, message);
        });
      }
      case 'RabbitRpc': {
        const { pool: _pool, shareQueue: _share, ...options } = declaration.options;
        return this.rabbit().serveRpc(options, (payload, message) => run(payload, message));
      }
      case 'KafkaSubscribe': {
        const { pool: _pool, ...options } = declaration.options;
        return this.kafka().subscribe(options, async (payload, message) => {
          await run(payload, message);
        });
      }
    }
  }

  private rabbit(): RabbitMessaging {
    // checkMessageHandlers() made sure the registration has this broker.
    return this.entry.rabbitmq!;
  }

  private kafka(): KafkaMessaging {
    return this.entry.kafka!;
  }

  private retryLater(failures: number, error: unknown): void {
    if (this.stopped) return;
    const level = failures === 1 ? 'error' : retryLogLevel(failures);
    this.entry.options.logger[level](
      `${handlerKey(this.handler)} could not attach: ${errorMessage(error)} — retrying in the background (startup.failFast is false); readiness stays down until it attaches`,
      { pool: this.pool, attempt: failures },
    );
    this.retryTimer = setTimeout(
      () => {
        this.subscribe().catch((e: unknown) => this.retryLater(failures + 1, e));
      },
      fullJitterBackoff(failures, ATTACH_BACKOFF),
    );
    // An idle retry never keeps the process alive.
    this.retryTimer.unref();
  }
}

import type { Channel, ConsumeMessage } from 'amqplib';

/**
 * What happens to a message whose handler threw:
 * - `'once'` (default): requeued the first time, rejected (→ dead-letter exchange if the queue has one) when
 *   it was already redelivered, so a poison message cannot loop forever;
 * - `true` always requeue; `false` always reject;
 * - a function deciding per error and message.
 */
export type RequeuePolicy =
  boolean | 'once' | ((error: unknown, message: ConsumeMessage) => boolean);

export interface ConsumeOptions {
  /** Unacked deliveries the broker sends ahead (per consumer). Default 20. */
  prefetch?: number;
  requeueOnError?: RequeuePolicy;
  exclusive?: boolean;
  priority?: number;
  arguments?: Record<string, unknown>;
  /** Longest wait for the first attach in `consume()` (default `acquireTimeoutMs`). */
  timeoutMs?: number;
}

/** Acked when it resolves, nacked (per `requeueOnError`) when it throws or rejects. */
export type ConsumeHandler = (message: ConsumeMessage) => unknown;

/** A running consumer: desired state until `cancel()`, re-attached after every reconnect. */
export interface ConsumerHandle {
  readonly queue: string;
  /** Tag of the current subscription; changes on every re-attach. */
  readonly consumerTag: string | undefined;
  /** Subscribed right now (false while reconnecting). */
  readonly active: boolean;
  /** Handlers running now. */
  readonly inFlight: number;
  /** Channel generation: +1 on every (re-)attach. */
  readonly generation: number;
  /** Acks/nacks dropped because their channel died first (see StaleDeliveryError). */
  readonly staleDeliveries: number;
  /**
   * The current channel, for inspection. Do not ack on it yourself: the handle acks when the handler
   * resolves, and a second ack closes the channel with 406.
   */
  readonly channel: Channel | undefined;
  /** Stops deliveries, waits for running handlers (up to `timeoutMs`, default 10000), closes the channel. Idempotent. */
  cancel(opts?: { timeoutMs?: number }): Promise<void>;
}

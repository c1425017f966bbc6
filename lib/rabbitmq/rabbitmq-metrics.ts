/**
 * Broker-level measurements of the RabbitMQ adapter. The Nest metrics layer implements this with
 * Prometheus counters/histograms; without it the NOOP recorder keeps the hot path free of `if`s.
 * Every method must be cheap and must not throw.
 */
export type PublishErrorReason =
  | 'nack'
  | 'timeout'
  | 'unroutable'
  | 'channel_closed'
  | 'channel_error'
  | 'no_channel'
  | 'exhausted'
  | 'closed'
  | 'aborted'
  | 'invalid';

export type ConsumeOutcome = 'ack' | 'requeue' | 'reject';

export type ConnectionRole = 'publisher' | 'consumer';

/** Why a `request()` failed: `timeout` = no reply within its deadline, `remote` = an error reply. */
export type RpcErrorReason =
  | 'timeout'
  | 'remote'
  | 'unroutable'
  | 'rejected'
  | 'channel_error'
  | 'connection'
  | 'exhausted'
  | 'closed'
  | 'invalid';

export interface RabbitMqMetricsRecorder {
  /** One connect attempt after the first connection of a slot: `success` = connection re-established. */
  reconnect(role: ConnectionRole, outcome: 'success' | 'failure'): void;
  /** A publish the broker confirmed, from the call to the ack (waiting for a channel included). */
  publishSeconds(seconds: number): void;
  publishError(reason: PublishErrorReason): void;
  /** A delivery whose handler settled; `seconds` = handler duration. */
  consumed(outcome: ConsumeOutcome, seconds: number): void;
  /** An ack/nack dropped because the delivery's channel died (see StaleDeliveryError). */
  staleDelivery(): void;
  /**
   * Declarative handlers (`subscribe()`), per handler queue — names from code, so the label stays
   * bounded. A handler that resolved; `seconds` = its duration.
   */
  handled(queue: string, seconds: number): void;
  /** A handler that threw (or whose payload could not be decoded); `seconds` = its duration. */
  handlerFailed(queue: string, seconds: number): void;
  /** A failed message sent to its delay queue for another attempt. */
  retried(queue: string): void;
  /** A failed message given up on and sent to its dead-letter target. */
  deadLettered(queue: string): void;
  /** A failed message given up on and dropped (`deadLetter: false`). */
  discarded(queue: string): void;
  /** A `request()` answered by its server (an error reply included): `seconds` from the call to the reply. */
  rpcReplySeconds(seconds: number): void;
  /** A `request()` that failed, by reason. */
  rpcRequestError(reason: RpcErrorReason): void;
  /** A reply no request awaits (it came after its request timed out, or carries an unknown correlation id): dropped. */
  rpcLateReply(): void;
  /** A request handled by `serveRpc()` on `queue`: `ok` = the handler returned, `error` = it threw (an error reply). */
  rpcServed(queue: string, outcome: 'ok' | 'error'): void;
}

const noop = (): void => undefined;

export const NOOP_RABBITMQ_METRICS: RabbitMqMetricsRecorder = Object.freeze({
  reconnect: noop,
  publishSeconds: noop,
  publishError: noop,
  consumed: noop,
  staleDelivery: noop,
  handled: noop,
  handlerFailed: noop,
  retried: noop,
  deadLettered: noop,
  discarded: noop,
  rpcReplySeconds: noop,
  rpcRequestError: noop,
  rpcLateReply: noop,
  rpcServed: noop,
});

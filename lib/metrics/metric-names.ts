/**
 * The metrics of DESIGN §3 (plus `mq_pool_channels_max`, the bound saturation is read against), in one place. Every series carries `pool` (registration name) and
 * `broker` (`rabbitmq` | `kafka`); a few add one bounded label (`state`, `reason`, `outcome`). The
 * declarative handlers' series (`mq_handler_*`) add where the messages come from: `queue`
 * (RabbitMQ) or `topic` (Kafka), names from the handlers' options, so bounded too.
 * Never message data, never hosts or credentials.
 */
export const MQ_METRIC = Object.freeze({
  connections: 'mq_pool_connections',
  channels: 'mq_pool_channels',
  channelsMax: 'mq_pool_channels_max',
  waiting: 'mq_pool_waiting',
  acquireSeconds: 'mq_pool_acquire_seconds',
  acquireErrors: 'mq_pool_acquire_errors_total',
  leaks: 'mq_pool_leaks_total',
  reconnects: 'mq_pool_reconnects_total',
  publishSeconds: 'mq_publish_seconds',
  publishErrors: 'mq_publish_errors_total',
  consume: 'mq_consume_total',
  handlerMessages: 'mq_handler_messages_total',
  handlerSeconds: 'mq_handler_seconds',
  rpcRequestSeconds: 'mq_rpc_request_seconds',
  rpcRequestErrors: 'mq_rpc_request_errors_total',
  rpcLateReplies: 'mq_rpc_late_replies_total',
  rpcServed: 'mq_rpc_served_total',
});

export type MqMetricName = (typeof MQ_METRIC)[keyof typeof MQ_METRIC];

// Acquire is sub-millisecond when a channel is idle and up to acquireTimeoutMs (5 s) when saturated.
export const ACQUIRE_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
// A confirmed publish is ~0.1-10 ms on a healthy broker; the tail reaches the confirm deadline (10 s).
export const PUBLISH_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
// A handler is the app's code: from sub-millisecond to the minute a slow downstream call may take.
export const HANDLER_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
];
// A request/reply round trip is a publish plus the server's handling plus the reply: the tail reaches
// the request deadline (rpc.timeoutMs, 5 s by default).
export const RPC_BUCKETS = [
  0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30,
];

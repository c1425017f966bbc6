/** Names the sample app uses on the brokers, and its shutdown budget, in one place. */
export const ORDERS_EXCHANGE = 'sample.orders';
/** Declared and bound by `@RabbitSubscribe` (with its retry queue and `${ORDERS_QUEUE}.dlq`). */
export const ORDERS_QUEUE = 'sample.orders.fulfilment';
/** Bound to every order event by `rabbitmq.topology`, read by the low-level `consume()` example. */
export const AUDIT_QUEUE = 'sample.orders.audit';
/** Served by `@RabbitRpc`; callers reach it through the default exchange with the queue name. */
export const QUOTES_QUEUE = 'sample.orders.quotes';
export const ORDER_CREATED_KEY = 'order.created';
export const EVENTS_TOPIC = 'sample-events';
export const LEDGER_TOPIC = 'sample-ledger';
export const EVENTS_GROUP = 'sample-app-events';

/**
 * The graceful-shutdown budget (`shutdown.drainTimeoutMs`): on SIGTERM every pool drains within it.
 * A deployment's grace period must exceed it (test/unit/deployment.spec.ts checks the manifest).
 */
export const SHUTDOWN_DRAIN_TIMEOUT_MS = 15_000;

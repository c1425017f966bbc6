/** Names the sample app uses on the brokers, in one place. */
export const ORDERS_EXCHANGE = 'sample.orders';
export const ORDERS_QUEUE = 'sample.orders.created';
export const ORDER_CREATED_KEY = 'order.created';
export const EVENTS_TOPIC = 'sample-events';
export const LEDGER_TOPIC = 'sample-ledger';
export const EVENTS_GROUP = 'sample-app-events';

/**
 * OpenTelemetry messaging semantic-convention names (v1.27+) used by the library, spelled out here so
 * `@opentelemetry/semantic-conventions` is not a dependency. `mq.*` names are the library's own.
 */
export const ATTR = Object.freeze({
  system: 'messaging.system',
  destination: 'messaging.destination.name',
  operationType: 'messaging.operation.type',
  operationName: 'messaging.operation.name',
  messageId: 'messaging.message.id',
  conversationId: 'messaging.message.conversation_id',
  bodySize: 'messaging.message.body.size',
  batchCount: 'messaging.batch.message_count',
  consumerGroup: 'messaging.consumer.group.name',
  partition: 'messaging.destination.partition.id',
  rabbitRoutingKey: 'messaging.rabbitmq.destination.routing_key',
  rabbitDeliveryTag: 'messaging.rabbitmq.message.delivery_tag',
  kafkaKey: 'messaging.kafka.message.key',
  kafkaOffset: 'messaging.kafka.offset',
  errorType: 'error.type',
  pool: 'mq.pool.name',
  attempts: 'mq.publish.attempts',
  redelivered: 'mq.message.redelivered',
  retries: 'mq.message.retries',
  settlement: 'mq.settlement',
  transactionalId: 'mq.kafka.transactional_id',
  transactionOutcome: 'mq.kafka.transaction.outcome',
});

/** Name of the span event recorded when a caller waited for a pooled resource. */
export const POOL_WAIT_EVENT = 'mq.pool.wait';

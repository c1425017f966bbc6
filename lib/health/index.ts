export { KafkaHealthIndicator } from './kafka.health.js';
export type { MqHealthCheckOptions } from './mq-health-check-options.js';
export { RabbitMqHealthIndicator } from './rabbitmq.health.js';

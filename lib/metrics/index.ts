export { MQ_METRIC, type MqMetricName } from './metric-names.js';
export { PrometheusKafkaMetricsRecorder } from './kafka-metrics.recorder.js';
export { getMqMetrics, MqMetrics, type MetricsRegistry } from './mq-metrics.js';
export { PrometheusPoolMetricsRecorder } from './pool-metrics.recorder.js';
export { PrometheusRabbitMqMetricsRecorder } from './rabbitmq-metrics.recorder.js';

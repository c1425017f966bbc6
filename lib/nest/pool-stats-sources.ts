import type { KafkaPool } from '../kafka/kafka-pool.js';
import type { PoolStatsSource } from '../metrics/mq-metrics.js';
import type { RabbitMqPool } from '../rabbitmq/rabbitmq-pool.js';

/** What the gauges read from a RabbitMQ pool at scrape time. */
export function rabbitMqStatsSource(pool: RabbitMqPool, name: string): PoolStatsSource {
  return {
    pool: name,
    broker: 'rabbitmq',
    sample: () => {
      const s = pool.stats();
      return {
        connections: s.connections,
        idle: s.channels.idle,
        leased: s.channels.leased,
        waiting: s.waiting,
        max: s.channels.max,
      };
    },
  };
}

/**
 * What the gauges read from a Kafka pool: connections = connected clients (shared producer,
 * running consumers, open transactional producers); "channels" = transactional producers.
 */
export function kafkaStatsSource(pool: KafkaPool, name: string): PoolStatsSource {
  return {
    pool: name,
    broker: 'kafka',
    sample: () => {
      const s = pool.stats();
      const producer = s.producer.state === 'connected' ? 1 : 0;
      const consumers = s.consumers.filter((c) => c.state === 'running').length;
      return {
        connections: producer + consumers + s.size,
        idle: s.idle,
        leased: s.leased,
        waiting: s.waiting,
        max: s.max > 0 ? s.max : undefined,
      };
    },
  };
}

/**
 * Where the tests find their brokers. Both come from the environment so a developer or CI can
 * point the suite at brokers of their own; the defaults are what `npm run brokers:up` provides.
 */
export const DEFAULT_AMQP_URL = 'amqp://guest:guest@127.0.0.1:5672';
export const DEFAULT_KAFKA_BROKERS = '127.0.0.1:9092';

/** AMQP URL of the RabbitMQ under test (`AMQP_URL`). May hold credentials: never print it raw. */
export function amqpUrl(): string {
  const fromEnv = process.env.AMQP_URL?.trim();
  return fromEnv ? fromEnv : DEFAULT_AMQP_URL;
}

/** Bootstrap brokers of the Kafka under test (`KAFKA_BROKERS`, comma-separated host:port). */
export function kafkaBrokers(): string[] {
  const list = (process.env.KAFKA_BROKERS ?? DEFAULT_KAFKA_BROKERS)
    .split(',')
    .map((broker) => broker.trim())
    .filter((broker) => broker.length > 0);
  return list.length > 0 ? list : [DEFAULT_KAFKA_BROKERS];
}

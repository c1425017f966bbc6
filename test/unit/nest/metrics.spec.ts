import { Counter, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import {
  getMqMetrics,
  InvalidPoolOptionsError,
  MQ_METRIC,
  PrometheusKafkaMetricsRecorder,
  PrometheusPoolMetricsRecorder,
  PrometheusRabbitMqMetricsRecorder,
} from '../../../lib/index.js';

describe('Prometheus metrics', () => {
  it('are created once per registry: a second pool or module gets the same metrics, no duplicate registration', () => {
    const registry = new Registry();
    const a = getMqMetrics(registry);
    const b = getMqMetrics(registry);
    expect(b).toBe(a);
    expect(
      registry
        .getMetricsAsArray()
        .map((m) => m.name)
        .sort(),
    ).toEqual(Object.values(MQ_METRIC).sort());
    const other = new Registry();
    expect(getMqMetrics(other)).not.toBe(a);
  });

  it('re-register themselves after the registry was cleared (tests do that)', () => {
    const registry = new Registry();
    getMqMetrics(registry);
    registry.clear();
    getMqMetrics(registry);
    expect(registry.getSingleMetric(MQ_METRIC.leaks)).toBeDefined();
  });

  it('refuse to shadow a same-named metric the library did not create', () => {
    const registry = new Registry();
    new Counter({ name: MQ_METRIC.leaks, help: 'someone else', registers: [registry] });
    expect(() => getMqMetrics(registry)).toThrow(InvalidPoolOptionsError);
  });

  it('gauges are sampled from running pools at scrape time, and a removed pool disappears', async () => {
    const registry = new Registry();
    const metrics = getMqMetrics(registry);
    let leased = 3;
    const stop = metrics.addSource({
      pool: 'orders',
      broker: 'rabbitmq',
      sample: () => ({ connections: 2, idle: 5, leased, waiting: 7, max: 16 }),
    });
    metrics.addSource({
      pool: 'events',
      broker: 'kafka',
      sample: () => ({ connections: 1, idle: 0, leased: 0, waiting: 0, max: undefined }),
    });
    const text = await registry.metrics();
    expect(text).toContain('mq_pool_channels_max{pool="orders",broker="rabbitmq"} 16');
    // No bound (Kafka without transactions): no series rather than a misleading 0.
    expect(text).not.toContain('mq_pool_channels_max{pool="events"');
    expect(text).toContain('mq_pool_connections{pool="orders",broker="rabbitmq"} 2');
    expect(text).toContain('mq_pool_channels{pool="orders",broker="rabbitmq",state="leased"} 3');
    expect(text).toContain('mq_pool_channels{pool="orders",broker="rabbitmq",state="idle"} 5');
    expect(text).toContain('mq_pool_waiting{pool="orders",broker="rabbitmq"} 7');
    leased = 4;
    expect(await registry.metrics()).toContain('state="leased"} 4');
    stop();
    expect(await registry.metrics()).not.toContain('pool="orders"');
  });

  it('a pool whose stats throw does not break the scrape', async () => {
    const registry = new Registry();
    const metrics = getMqMetrics(registry);
    metrics.addSource({
      pool: 'bad',
      broker: 'kafka',
      sample: () => {
        throw new Error('x');
      },
    });
    await expect(registry.metrics()).resolves.toContain('mq_pool_connections');
  });

  it('recorders implement the core, RabbitMQ and Kafka interfaces with bounded labels', async () => {
    const registry = new Registry();
    const metrics = getMqMetrics(registry);
    const pool = new PrometheusPoolMetricsRecorder(metrics, 'orders', 'rabbitmq');
    pool.acquired(0.002);
    pool.acquireFailed('timeout');
    pool.leak();
    const rabbit = new PrometheusRabbitMqMetricsRecorder(metrics, 'orders');
    rabbit.reconnect('publisher', 'success');
    rabbit.reconnect('publisher', 'failure');
    rabbit.publishSeconds(0.004);
    rabbit.publishError('nack');
    rabbit.consumed('ack', 0.01);
    rabbit.rpcReplySeconds(0.02);
    rabbit.rpcRequestError('timeout');
    rabbit.rpcLateReply();
    rabbit.rpcServed('orders.rpc', 'ok');
    rabbit.rpcServed('orders.rpc', 'error');
    const kafka = new PrometheusKafkaMetricsRecorder(metrics, 'orders');
    kafka.sendSucceeded(0.01);
    kafka.sendFailed('timeout', 1);
    kafka.consumed('group-1', 'success');
    kafka.reconnected('producer');
    kafka.handlerRan('orders-topic', 0.02);
    kafka.handlerOutcome('orders-topic', 'failed');
    kafka.handlerOutcome('orders-topic', 'dead_lettered');
    const text = await registry.metrics();
    expect(text).toContain('mq_pool_acquire_seconds_count{pool="orders",broker="rabbitmq"} 1');
    expect(text).toContain(
      'mq_pool_acquire_errors_total{pool="orders",broker="rabbitmq",reason="timeout"} 1',
    );
    expect(text).toContain(
      'mq_pool_acquire_errors_total{pool="orders",broker="rabbitmq",reason="exhausted"} 0',
    );
    expect(text).toContain('mq_pool_leaks_total{pool="orders",broker="rabbitmq"} 1');
    expect(text).toContain('mq_pool_reconnects_total{pool="orders",broker="rabbitmq"} 1');
    expect(text).toContain('mq_publish_seconds_count{pool="orders",broker="rabbitmq"} 1');
    expect(text).toContain(
      'mq_publish_errors_total{pool="orders",broker="rabbitmq",reason="nack"} 1',
    );
    expect(text).toContain('mq_consume_total{pool="orders",broker="rabbitmq",outcome="ack"} 1');
    expect(text).toContain('mq_rpc_request_seconds_count{pool="orders",broker="rabbitmq"} 1');
    expect(text).toContain(
      'mq_rpc_request_errors_total{pool="orders",broker="rabbitmq",reason="timeout"} 1',
    );
    expect(text).toContain('mq_rpc_late_replies_total{pool="orders",broker="rabbitmq"} 1');
    expect(text).toContain(
      'mq_rpc_served_total{pool="orders",broker="rabbitmq",queue="orders.rpc",outcome="ok"} 1',
    );
    expect(text).toContain(
      'mq_rpc_served_total{pool="orders",broker="rabbitmq",queue="orders.rpc",outcome="error"} 1',
    );
    expect(text).toContain('mq_publish_seconds_count{pool="orders",broker="kafka"} 1');
    expect(text).toContain(
      'mq_publish_errors_total{pool="orders",broker="kafka",reason="timeout"} 1',
    );
    expect(text).toContain('mq_consume_total{pool="orders",broker="kafka",outcome="success"} 1');
    expect(text).toContain('mq_pool_reconnects_total{pool="orders",broker="kafka"} 1');
    expect(text).toContain(
      'mq_handler_seconds_count{pool="orders",broker="kafka",topic="orders-topic"} 1',
    );
    expect(text).toContain(
      'mq_handler_messages_total{pool="orders",broker="kafka",topic="orders-topic",outcome="failed"} 1',
    );
    expect(text).toContain(
      'mq_handler_messages_total{pool="orders",broker="kafka",topic="orders-topic",outcome="dead_lettered"} 1',
    );
    expect(text).not.toMatch(/group-1/);
  });

  it('declarative handler metrics of RabbitMQ carry the handler queue', async () => {
    const registry = new Registry();
    const rabbit = new PrometheusRabbitMqMetricsRecorder(getMqMetrics(registry), 'orders');
    rabbit.handled('orders.created', 0.003);
    rabbit.handlerFailed('orders.created', 0.2);
    rabbit.handlerFailed('orders.created', 0.2);
    rabbit.retried('orders.created');
    rabbit.deadLettered('orders.created');
    rabbit.discarded('orders.created');
    const text = await registry.metrics();
    const labels = 'pool="orders",broker="rabbitmq",queue="orders.created"';
    const count = (outcome: string): string =>
      `mq_handler_messages_total{${labels},outcome="${outcome}"}`;
    expect(text).toContain(`${count('handled')} 1`);
    expect(text).toContain(`${count('failed')} 2`);
    expect(text).toContain(`${count('retried')} 1`);
    expect(text).toContain(`${count('dead_lettered')} 1`);
    expect(text).toContain(`${count('discarded')} 1`);
    expect(text).toContain(`mq_handler_seconds_count{${labels}} 3`);
  });
});

import type {
  KafkaConsumeOutcome,
  KafkaHandlerOutcome,
  KafkaMetricsRecorder,
  KafkaReconnectTarget,
  KafkaSendFailureReason,
  KafkaTransactionOutcome,
} from '../kafka/kafka-metrics.js';
import { labelCache } from './label-cache.js';
import type { MqMetrics } from './mq-metrics.js';

/**
 * The Kafka adapter's broker-level recorder on Prometheus (labels pool, broker="kafka"). Group ids
 * are not labels: DESIGN §3 keeps series to `pool` and `broker` plus one bounded label. Handler
 * series add `topic`: the names a `subscribe()` lists (never patterns), so bounded too.
 */
export class PrometheusKafkaMetricsRecorder implements KafkaMetricsRecorder {
  private readonly reconnects;
  private readonly publishSeconds;
  private readonly publishErrors;
  private readonly consume;
  private readonly handlerSeconds;
  private readonly handlerMessages;

  constructor(metrics: MqMetrics, pool: string) {
    const base = { pool, broker: 'kafka' };
    this.reconnects = metrics.reconnects.labels(base);
    this.reconnects.inc(0);
    this.publishSeconds = metrics.publishSeconds.labels(base);
    metrics.publishSeconds.zero(base);
    this.publishErrors = labelCache((reason: string) =>
      metrics.publishErrors.labels({ ...base, reason }),
    );
    this.consume = labelCache((outcome: string) => metrics.consume.labels({ ...base, outcome }));
    this.handlerSeconds = labelCache((topic: string) =>
      metrics.handlerSeconds.labels({ ...base, topic }),
    );
    this.handlerMessages = labelCache((topic: string) =>
      labelCache((outcome: string) => metrics.handlerMessages.labels({ ...base, topic, outcome })),
    );
  }

  sendSucceeded(seconds: number): void {
    this.publishSeconds.observe(seconds);
  }

  sendFailed(reason: KafkaSendFailureReason, _seconds: number): void {
    this.publishErrors(reason).inc();
  }

  consumed(_groupId: string, outcome: KafkaConsumeOutcome): void {
    this.consume(outcome).inc();
  }

  consumerCrashed(_groupId: string): void {
    // Not a message outcome; a crash-looping consumer turns the health check down instead.
  }

  consumerRebalanced(_groupId: string): void {
    // Not one of the contract's metrics; rebalances show in the adapter's logs.
  }

  transactionEnded(_outcome: KafkaTransactionOutcome, _seconds: number): void {
    // Transactions' sends are counted by sendSucceeded/sendFailed already.
  }

  reconnected(_target: KafkaReconnectTarget): void {
    this.reconnects.inc();
  }

  handlerRan(topic: string, seconds: number): void {
    this.handlerSeconds(topic).observe(seconds);
  }

  handlerOutcome(topic: string, outcome: KafkaHandlerOutcome): void {
    this.handlerMessages(topic)(outcome).inc();
  }
}

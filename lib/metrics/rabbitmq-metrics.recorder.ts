import type {
  ConnectionRole,
  ConsumeOutcome,
  PublishErrorReason,
  RabbitMqMetricsRecorder,
  RpcErrorReason,
} from '../rabbitmq/rabbitmq-metrics.js';
import { labelCache } from './label-cache.js';
import type { MqMetrics } from './mq-metrics.js';

/** The RabbitMQ adapter's broker-level recorder on Prometheus (labels pool, broker="rabbitmq"). */
export class PrometheusRabbitMqMetricsRecorder implements RabbitMqMetricsRecorder {
  private readonly reconnects;
  private readonly publishSecondsChild;
  private readonly publishErrors;
  private readonly consume;
  private readonly handler;
  private readonly rpcSeconds;
  private readonly rpcErrors;
  private readonly lateReplies;
  private readonly served;

  constructor(metrics: MqMetrics, pool: string) {
    const base = { pool, broker: 'rabbitmq' };
    this.reconnects = metrics.reconnects.labels(base);
    this.reconnects.inc(0);
    this.publishSecondsChild = metrics.publishSeconds.labels(base);
    metrics.publishSeconds.zero(base);
    this.publishErrors = labelCache((reason: string) =>
      metrics.publishErrors.labels({ ...base, reason }),
    );
    this.consume = labelCache((outcome: string) => metrics.consume.labels({ ...base, outcome }));
    // Per handler queue: the label children of the handler series, resolved once per queue.
    this.handler = labelCache((queue: string) => {
      const labels = { ...base, queue };
      const outcome = (name: string) =>
        metrics.handlerMessages.labels({ ...labels, outcome: name });
      return {
        handled: outcome('handled'),
        failed: outcome('failed'),
        retried: outcome('retried'),
        deadLettered: outcome('dead_lettered'),
        discarded: outcome('discarded'),
        seconds: metrics.handlerSeconds.labels(labels),
      };
    });
    this.rpcSeconds = metrics.rpcRequestSeconds.labels(base);
    this.rpcErrors = labelCache((reason: string) =>
      metrics.rpcRequestErrors.labels({ ...base, reason }),
    );
    this.lateReplies = metrics.rpcLateReplies.labels(base);
    // Series from the start, so dashboards and alerts on RPC read 0 rather than "no data".
    metrics.rpcRequestSeconds.zero(base);
    this.lateReplies.inc(0);
    this.rpcErrors('timeout').inc(0);
    // Keyed `outcome:queue`. The queues served by this process are declared in code: a bounded set.
    this.served = labelCache((key: string) => {
      const colon = key.indexOf(':');
      const outcome = key.slice(0, colon);
      return metrics.rpcServed.labels({ ...base, queue: key.slice(colon + 1), outcome });
    });
  }

  reconnect(_role: ConnectionRole, outcome: 'success' | 'failure'): void {
    // Counts re-established connections; failed attempts show as health "reconnecting" instead.
    if (outcome === 'success') this.reconnects.inc();
  }

  publishSeconds(seconds: number): void {
    this.publishSecondsChild.observe(seconds);
  }

  publishError(reason: PublishErrorReason): void {
    this.publishErrors(reason).inc();
  }

  consumed(outcome: ConsumeOutcome, _seconds: number): void {
    this.consume(outcome).inc();
  }

  staleDelivery(): void {
    // An ack/nack the broker never got: the message is redelivered, so it is its own outcome.
    this.consume('stale_ack').inc();
  }

  handled(queue: string, seconds: number): void {
    const h = this.handler(queue);
    h.handled.inc();
    h.seconds.observe(seconds);
  }

  handlerFailed(queue: string, seconds: number): void {
    const h = this.handler(queue);
    h.failed.inc();
    h.seconds.observe(seconds);
  }

  retried(queue: string): void {
    this.handler(queue).retried.inc();
  }

  deadLettered(queue: string): void {
    this.handler(queue).deadLettered.inc();
  }

  discarded(queue: string): void {
    this.handler(queue).discarded.inc();
  }

  rpcReplySeconds(seconds: number): void {
    this.rpcSeconds.observe(seconds);
  }

  rpcRequestError(reason: RpcErrorReason): void {
    this.rpcErrors(reason).inc();
  }

  rpcLateReply(): void {
    this.lateReplies.inc();
  }

  rpcServed(queue: string, outcome: 'ok' | 'error'): void {
    this.served(`${outcome}:${queue}`).inc();
  }
}

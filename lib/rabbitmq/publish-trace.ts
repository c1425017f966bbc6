import type { ConfirmChannel, Options } from 'amqplib';
import {
  activeContext,
  addPoolWaitEvent,
  ATTR,
  type Attributes,
  type Context,
  contextWithSpan,
  hasTraceparent,
  injectContext,
  isInstrumented,
  recordFailure,
  type Span,
  startMessagingSpan,
  type Tracer,
  wallClockMs,
} from '../telemetry/index.js';

/** What a trace reads from its publish job (structural, so publish-job.ts can hold a PublishTrace). */
export interface TracedPublish {
  readonly exchange: string;
  readonly routingKey: string;
  readonly body: Buffer;
  readonly options: Options.Publish;
  readonly messageId: string;
  readonly attempts: number;
}

/**
 * The trace of one `publish()`/`sendToQueue()`, created only when an SDK is registered.
 *
 * The span starts at the call (so it covers the wait for a channel and the confirm) but is opened
 * lazily at the first write, when the channel is known: if `@opentelemetry/instrumentation-amqplib`
 * wrapped that channel's `publish`, the instrumentation starts the PRODUCER span and injects
 * `traceparent` itself, so this span becomes INTERNAL (its parent) and injects nothing — one
 * producer span and one header either way. A publish that never got written (no channel in time,
 * pool closed) is ended as a PRODUCER span with the error.
 */
export class PublishTrace {
  private span: Span | undefined = undefined;
  private spanCtx: Context | undefined = undefined;
  private waitStartedAt = 0;
  private waitStats: Attributes | undefined = undefined;
  private readonly parent: Context = activeContext();
  private readonly startTime = wallClockMs();

  constructor(
    private readonly tracer: Tracer,
    private readonly pool: string,
  ) {}

  /** The publish queues for capacity; `stats` are the pool's counters at this moment. */
  waiting(stats: Attributes): void {
    if (this.waitStats !== undefined) return;
    this.waitStartedAt = wallClockMs();
    this.waitStats = stats;
  }

  /** Before each write: opens the span (first write), injects, records the wait or the retry. */
  beforeWrite(job: TracedPublish, channel: ConfirmChannel): Context {
    let span = this.span;
    if (span === undefined) {
      const instrumented = isInstrumented(channel.publish);
      span = this.open(job, instrumented);
      if (!instrumented && !hasTraceparent(job.options.headers as Record<string, unknown>)) {
        // Never write into the caller's own headers object.
        const headers: Record<string, unknown> = { ...job.options.headers };
        injectContext(this.spanCtx as Context, headers);
        job.options.headers = headers;
      }
    } else if (job.attempts > 0) {
      span.addEvent('mq.publish.retry', { 'mq.publish.attempt': job.attempts + 1 });
    }
    this.endWait('acquired');
    return this.spanCtx as Context;
  }

  /** The publish settled: confirmed (no error) or failed with `error` (`reason` = the metrics label). */
  end(job: TracedPublish, error?: unknown, reason?: string): void {
    const span = this.span ?? this.open(job, false);
    this.endWait(reason === 'no_channel' ? 'timeout' : 'failed');
    span.setAttribute(ATTR.attempts, job.attempts);
    if (error !== undefined) recordFailure(span, error, reason);
    span.end();
  }

  private open(job: TracedPublish, instrumented: boolean): Span {
    const toQueue = job.exchange === '';
    const attributes: Attributes = {
      [ATTR.system]: 'rabbitmq',
      [ATTR.destination]: toQueue ? job.routingKey : job.exchange,
      [ATTR.operationType]: 'send',
      [ATTR.operationName]: toQueue ? 'send' : 'publish',
      [ATTR.rabbitRoutingKey]: job.routingKey,
      [ATTR.messageId]: job.messageId,
      [ATTR.bodySize]: job.body.length,
      [ATTR.pool]: this.pool,
    };
    const correlationId = job.options.correlationId;
    if (typeof correlationId === 'string') attributes[ATTR.conversationId] = correlationId;
    const span = startMessagingSpan(this.tracer, {
      name: toQueue ? `send ${job.routingKey}` : `publish ${job.exchange}`,
      kind: instrumented ? 'internal' : 'producer',
      attributes,
      parent: this.parent,
      startTime: this.startTime,
    });
    this.span = span;
    this.spanCtx = contextWithSpan(this.parent, span);
    return span;
  }

  private endWait(outcome: 'acquired' | 'timeout' | 'failed'): void {
    const stats = this.waitStats;
    if (stats === undefined || this.span === undefined) return;
    this.waitStats = undefined;
    const now = wallClockMs();
    addPoolWaitEvent(this.span, now - this.waitStartedAt, stats, outcome, now);
  }
}

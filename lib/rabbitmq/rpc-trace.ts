import type { ConfirmChannel } from 'amqplib';
import {
  activeContext,
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

/**
 * The span of one `request()`, created only when an SDK is registered: from the call to the reply
 * (or the failure). Its context travels in the request's headers, so the server's delivery span
 * (the Consumer's) is its child and the whole round trip is one trace. As with publishes, an
 * `@opentelemetry/instrumentation-amqplib` that wrapped the channel's `publish` injects the
 * context itself: this span is then INTERNAL, its parent.
 */
export class RpcTrace {
  private span: Span | undefined = undefined;
  private spanCtx: Context | undefined = undefined;
  private readonly parent: Context = activeContext();
  private readonly startTime = wallClockMs();

  constructor(
    private readonly tracer: Tracer,
    private readonly pool: string,
    private readonly exchange: string,
    private readonly routingKey: string,
    private readonly correlationId: string,
  ) {}

  /**
   * Opens the span before the request is written; returns the context to write it in and the
   * headers to send (a copy with the trace context when this span injects it).
   */
  beforePublish(
    channel: ConfirmChannel,
    headers: Record<string, unknown>,
    bodySize: number,
  ): { ctx: Context; headers: Record<string, unknown> } {
    const instrumented = isInstrumented(channel.publish);
    const span = this.open(instrumented ? 'internal' : 'producer', bodySize);
    this.spanCtx = contextWithSpan(this.parent, span);
    if (instrumented || hasTraceparent(headers)) return { ctx: this.spanCtx, headers };
    const withContext = { ...headers };
    injectContext(this.spanCtx, withContext);
    return { ctx: this.spanCtx, headers: withContext };
  }

  /** The request settled: a reply (no error), an error reply, or a failure (`reason` = the metrics label). */
  end(error?: unknown, reason?: string): void {
    const span = this.span ?? this.open('producer', 0);
    if (error !== undefined) recordFailure(span, error, reason);
    span.end();
  }

  private open(kind: 'producer' | 'internal', bodySize: number): Span {
    const attributes: Attributes = {
      [ATTR.system]: 'rabbitmq',
      [ATTR.destination]: this.exchange === '' ? this.routingKey : this.exchange,
      [ATTR.operationType]: 'send',
      [ATTR.operationName]: 'request',
      [ATTR.rabbitRoutingKey]: this.routingKey,
      [ATTR.conversationId]: this.correlationId,
      [ATTR.bodySize]: bodySize,
      [ATTR.pool]: this.pool,
    };
    this.span = startMessagingSpan(this.tracer, {
      name: `request ${this.exchange === '' ? this.routingKey : this.exchange}`,
      kind,
      attributes,
      parent: this.parent,
      startTime: this.startTime,
    });
    return this.span;
  }
}

import type { ConsumeMessage } from 'amqplib';
import {
  activeContext,
  ATTR,
  type Attributes,
  type Context,
  contextWithSpan,
  extractContext,
  type HeaderCarrier,
  recordFailure,
  runInContext,
  type Span,
  startMessagingSpan,
  type Tracer,
} from '../telemetry/index.js';

export type Settlement = 'ack' | 'requeue' | 'reject' | 'stale';

/**
 * The span of one RabbitMQ delivery, created only when an SDK is registered. The handler runs
 * inside it. It is a CHILD of the producer's context extracted from the headers (not a link): one
 * delivery has exactly one producer, and a child keeps publish → process in one trace.
 * If `@opentelemetry/instrumentation-amqplib` wrapped the channel's `consume`, the delivery already
 * runs inside its CONSUMER span: this span is then INTERNAL, under it.
 */
export class ConsumeTrace {
  private constructor(
    private readonly span: Span,
    private readonly ctx: Context,
  ) {}

  static start(
    tracer: Tracer,
    queue: string,
    msg: ConsumeMessage,
    instrumented: boolean,
  ): ConsumeTrace {
    const headers = msg.properties.headers as HeaderCarrier | undefined;
    const parent = instrumented ? activeContext() : extractContext(headers);
    const attributes: Attributes = {
      [ATTR.system]: 'rabbitmq',
      [ATTR.destination]: queue,
      [ATTR.operationType]: 'process',
      [ATTR.operationName]: 'process',
      [ATTR.rabbitRoutingKey]: msg.fields.routingKey,
      [ATTR.rabbitDeliveryTag]: msg.fields.deliveryTag,
      [ATTR.bodySize]: msg.content.length,
      [ATTR.redelivered]: msg.fields.redelivered,
    };
    const id = msg.properties.messageId as unknown;
    if (typeof id === 'string') attributes[ATTR.messageId] = id;
    const correlationId = msg.properties.correlationId as unknown;
    if (typeof correlationId === 'string') attributes[ATTR.conversationId] = correlationId;
    const retries = deadLetterCount(headers);
    if (retries > 0) attributes[ATTR.retries] = retries;
    const span = startMessagingSpan(tracer, {
      name: `process ${queue}`,
      kind: instrumented ? 'internal' : 'consumer',
      attributes,
      parent,
    });
    return new ConsumeTrace(span, contextWithSpan(parent, span));
  }

  run<T>(fn: () => T): T {
    return runInContext(this.ctx, fn);
  }

  /** Ends the span with how the delivery was settled and the handler's error, if any. */
  settled(settlement: Settlement, error: unknown, failed: boolean): void {
    this.span.setAttribute(ATTR.settlement, settlement);
    if (failed) recordFailure(this.span, error);
    else if (settlement === 'stale') this.span.addEvent('mq.delivery.stale');
    this.span.end();
  }
}

/** Times the message went round a dead-letter retry loop (sum of the `x-death` counts). */
function deadLetterCount(headers: HeaderCarrier | undefined): number {
  const deaths = headers?.['x-death'];
  if (!Array.isArray(deaths)) return 0;
  let total = 0;
  for (const d of deaths) {
    const count = (d as { count?: unknown } | null)?.count;
    if (typeof count === 'number') total += count;
  }
  return total;
}

import type { PoolStats } from '../core/pool-stats.js';
import { HEADER_GETTER, HEADER_SETTER, type HeaderCarrier } from './header-carrier.js';
import {
  otel,
  type Attributes,
  type Context,
  type Link,
  type OtelApi,
  type Span,
  type SpanContext,
  type Tracer,
} from './otel-api.js';
import { ATTR, POOL_WAIT_EVENT } from './semconv.js';

/**
 * Span plumbing shared by the adapters. Only called once `activeTracer()` returned a tracer, which
 * implies the api is loaded; nothing here runs when tracing is off.
 */

export type MessagingSpanKind = 'producer' | 'consumer' | 'internal';

export interface StartMessagingSpan {
  name: string;
  kind: MessagingSpanKind;
  attributes: Attributes;
  /** Parent context; the caller's active context for producers, the extracted one for consumers. */
  parent: Context;
  /** Wall-clock start in epoch ms (defaults to now). */
  startTime?: number;
  links?: Link[];
}

function api(): OtelApi {
  return otel as OtelApi;
}

export function startMessagingSpan(tracer: Tracer, o: StartMessagingSpan): Span {
  const { SpanKind } = api();
  const kind =
    o.kind === 'producer'
      ? SpanKind.PRODUCER
      : o.kind === 'consumer'
        ? SpanKind.CONSUMER
        : SpanKind.INTERNAL;
  return tracer.startSpan(
    o.name,
    {
      kind,
      attributes: o.attributes,
      ...(o.startTime === undefined ? {} : { startTime: o.startTime }),
      ...(o.links === undefined ? {} : { links: o.links }),
    },
    o.parent,
  );
}

/** The caller's current context (captured at publish/send time). */
export function activeContext(): Context {
  return api().context.active();
}

/** Runs `fn` with `ctx` as the active context. */
export function runInContext<T>(ctx: Context, fn: () => T): T {
  return api().context.with(ctx, fn);
}

/** `parent` with `span` as its current span. */
export function contextWithSpan(parent: Context, span: Span): Context {
  return api().trace.setSpan(parent, span);
}

/** Runs `fn` with `span` current, so log lines and nested spans (an instrumentation's) attach to it. */
export function runWithSpan<T>(parent: Context, span: Span, fn: () => T): T {
  const a = api();
  return a.context.with(a.trace.setSpan(parent, span), fn);
}

/** Writes the W3C context of `ctx` (through the app's global propagator) into `headers`. */
export function injectContext(ctx: Context, headers: HeaderCarrier): void {
  api().propagation.inject(ctx, headers, HEADER_SETTER);
}

/** The context a producer wrote into `headers` (the root context when there is none). */
export function extractContext(headers: HeaderCarrier | undefined): Context {
  const a = api();
  return headers === undefined
    ? a.ROOT_CONTEXT
    : a.propagation.extract(a.ROOT_CONTEXT, headers, HEADER_GETTER);
}

/** The remote span context carried by `ctx`, when it is a valid one. */
export function remoteSpanContext(ctx: Context): SpanContext | undefined {
  const a = api();
  const sc = a.trace.getSpanContext(ctx);
  return sc !== undefined && a.isSpanContextValid(sc) ? sc : undefined;
}

/** The current span when it records (an app span, an instrumentation's span), else undefined. */
export function recordingActiveSpan(): Span | undefined {
  const span = api().trace.getActiveSpan();
  return span?.isRecording() === true ? span : undefined;
}

/** Epoch ms with sub-ms precision, on the same time base as the SDK's own timestamps. */
export function wallClockMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Marks `span` failed with `error` (exception event, ERROR status, `error.type`); does not end it. */
export function recordFailure(span: Span, error: unknown, errorType?: string): void {
  const { SpanStatusCode } = api();
  if (error instanceof Error) span.recordException(error);
  else span.recordException(String(error));
  const message = error instanceof Error ? error.message : String(error);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  span.setAttribute(
    ATTR.errorType,
    errorType ?? (error instanceof Error ? error.constructor.name : 'unknown'),
  );
}

/** Pool counters at the moment a caller had to wait, as span-event attributes. */
export function poolStatsAttributes(pool: string, stats: PoolStats): Attributes {
  return {
    [ATTR.pool]: pool,
    'mq.pool.max': stats.max,
    'mq.pool.size': stats.size,
    'mq.pool.in_use': stats.leased,
    'mq.pool.idle': stats.idle,
    'mq.pool.waiting': stats.waiting,
  };
}

/**
 * Records how long a caller waited for a pooled resource, with the pool's stats when the wait
 * began: "slow because the pool was saturated" reads straight off the trace.
 */
export function addPoolWaitEvent(
  span: Span,
  waitMs: number,
  statsAtStart: Attributes,
  outcome: 'acquired' | 'timeout' | 'failed',
  at?: number,
): void {
  span.addEvent(
    POOL_WAIT_EVENT,
    {
      ...statsAtStart,
      'mq.pool.wait_ms': Math.round(waitMs * 1000) / 1000,
      'mq.pool.wait_outcome': outcome,
    },
    at,
  );
}

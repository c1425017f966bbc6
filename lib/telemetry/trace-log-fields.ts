import { otel } from './otel-api.js';

export interface TraceLogFields {
  trace_id: string;
  span_id: string;
}

/**
 * Ids of the span active in the current async context, for log correlation; undefined when there
 * is none (no api, no SDK, or no span), so a log line outside a trace carries nothing extra.
 */
export function currentTraceLogFields(): TraceLogFields | undefined {
  if (otel === undefined) return undefined;
  const sc = otel.trace.getSpanContext(otel.context.active());
  if (sc === undefined || !otel.isSpanContextValid(sc)) return undefined;
  return { trace_id: sc.traceId, span_id: sc.spanId };
}

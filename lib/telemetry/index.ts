export { activeTracer } from './active-tracer.js';
export {
  HEADER_GETTER,
  HEADER_SETTER,
  hasTraceparent,
  TRACEPARENT,
  type HeaderCarrier,
} from './header-carrier.js';
export { isInstrumented } from './instrumentation-probe.js';
export {
  activeContext,
  addPoolWaitEvent,
  contextWithSpan,
  extractContext,
  injectContext,
  poolStatsAttributes,
  recordFailure,
  recordingActiveSpan,
  remoteSpanContext,
  runInContext,
  runWithSpan,
  startMessagingSpan,
  wallClockMs,
  type MessagingSpanKind,
} from './messaging-span.js';
export type { Attributes, Context, Link, Span, Tracer } from './otel-api.js';
export { ATTR, POOL_WAIT_EVENT } from './semconv.js';
export { TraceContextLogger, withTraceContext, withTraceFields } from './trace-context-logger.js';
export { currentTraceLogFields, type TraceLogFields } from './trace-log-fields.js';
export { traceAcquire } from './trace-acquire.js';

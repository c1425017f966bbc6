/**
 * Whether a client method has been wrapped by an OpenTelemetry instrumentation
 * (`@opentelemetry/instrumentation` wraps with shimmer, which marks the wrapper `__wrapped`).
 * When it is, that instrumentation already starts the PRODUCER/CONSUMER span and injects
 * `traceparent`, so the library's span for the same call becomes INTERNAL and injects nothing.
 */
export function isInstrumented(fn: unknown): boolean {
  return typeof fn === 'function' && (fn as { __wrapped?: unknown }).__wrapped === true;
}

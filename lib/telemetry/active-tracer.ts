import { otel, TRACER_NAME, TRACER_VERSION, type Tracer, type TracerProvider } from './otel-api.js';

type ProxyLike = TracerProvider & { getDelegate?: () => TracerProvider };

let seenDelegate: TracerProvider | undefined;
let tracer: Tracer | undefined;

/**
 * The library's tracer when an SDK is registered, else undefined — the one check on every hot path
 * (publish, send, delivery). With no SDK it costs a global read and an identity compare: no span,
 * context or carrier is allocated. The answer follows the app registering or disabling a provider
 * at any time (`trace.disable()`), because the delegate behind the api's proxy provider is compared
 * on each call.
 */
export function activeTracer(): Tracer | undefined {
  if (otel === undefined) return undefined;
  const provider = otel.trace.getTracerProvider() as ProxyLike;
  const delegate = typeof provider.getDelegate === 'function' ? provider.getDelegate() : provider;
  if (delegate !== seenDelegate) {
    seenDelegate = delegate;
    tracer = isNoopProvider(delegate) ? undefined : delegate.getTracer(TRACER_NAME, TRACER_VERSION);
  }
  return tracer;
}

/** The api's NOOP_TRACER_PROVIDER is not exported; its class name is stable across 1.x. */
function isNoopProvider(provider: TracerProvider): boolean {
  return (
    (provider as { constructor?: { name?: string } }).constructor?.name === 'NoopTracerProvider'
  );
}

import { context, propagation, trace, type Tracer } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  NodeTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-node';

export interface InstalledSdk {
  exporter: InMemorySpanExporter;
  tracer: Tracer;
  spans(): ReadableSpan[];
  /** Unregisters the global provider, propagator and context manager (the next file starts clean). */
  uninstall(): Promise<void>;
}

/**
 * The real SDK as an app would register it: NodeTracerProvider.register() installs the
 * AsyncLocalStorage context manager and the W3C trace-context propagator; spans go to memory.
 */
export function installSdk(): InstalledSdk {
  const exporter = new InMemorySpanExporter();
  const provider = new NodeTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  provider.register();
  return {
    exporter,
    tracer: trace.getTracer('telemetry-it'),
    spans: () => exporter.getFinishedSpans(),
    async uninstall() {
      await provider.shutdown();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

export function parentId(span: ReadableSpan): string | undefined {
  return span.parentSpanContext?.spanId;
}

export function traceIdOf(span: ReadableSpan): string {
  return span.spanContext().traceId;
}

export function spanIdOf(span: ReadableSpan): string {
  return span.spanContext().spanId;
}

/** Spans of the library (instrumentation scope "nestjs-mq-pool"). */
export function librarySpans(spans: ReadableSpan[]): ReadableSpan[] {
  return spans.filter((s) => s.instrumentationScope.name === 'nestjs-mq-pool');
}

/** Polls until `pick` finds something in the finished spans, or throws after `timeoutMs`. */
export async function waitForSpan(
  spans: () => ReadableSpan[],
  pick: (s: ReadableSpan) => boolean,
  timeoutMs = 10_000,
): Promise<ReadableSpan> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const found = spans().find(pick);
    if (found) return found;
    if (Date.now() > until) {
      throw new Error(
        `no matching span within ${timeoutMs}ms; have: ${spans()
          .map((s) => `${s.name}(${s.kind})`)
          .join(', ')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The traceparent a W3C header holds: 00-<trace id>-<span id>-<flags>. */
export function parseTraceparent(value: unknown): { traceId: string; spanId: string } | undefined {
  const text = Buffer.isBuffer(value) ? value.toString('utf8') : value;
  if (typeof text !== 'string') return undefined;
  const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(text);
  return m ? { traceId: m[1] as string, spanId: m[2] as string } : undefined;
}

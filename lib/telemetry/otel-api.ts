import { createRequire } from 'node:module';
import type * as Api from '@opentelemetry/api';

/**
 * `@opentelemetry/api` is an OPTIONAL peer: it is loaded once, synchronously (no top-level await, so
 * CommonJS apps can `require()` this ESM package), and a missing package means "no tracing".
 * Another copy of the api than the app's still sees the app's SDK: the api keeps its registry on a
 * `Symbol.for` global key.
 */
export type OtelApi = typeof Api;
export type {
  Attributes,
  Context,
  Link,
  Span,
  SpanContext,
  TextMapGetter,
  TextMapSetter,
  Tracer,
  TracerProvider,
} from '@opentelemetry/api';

const require = createRequire(import.meta.url);

function load(): OtelApi | undefined {
  try {
    return require('@opentelemetry/api') as OtelApi;
  } catch {
    return undefined;
  }
}

function libraryVersion(): string | undefined {
  try {
    // lib/telemetry and dist/telemetry are both two levels below the package root.
    return (require('../../package.json') as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** The api module, or undefined when the app does not have it installed. */
export const otel: OtelApi | undefined = load();

/** Instrumentation scope of every span the library starts. */
export const TRACER_NAME = 'nestjs-mq-pool';
export const TRACER_VERSION = otel === undefined ? undefined : libraryVersion();

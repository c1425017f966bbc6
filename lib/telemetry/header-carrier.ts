import type { TextMapGetter, TextMapSetter } from './otel-api.js';

/** Message headers as the brokers hand them over: AMQP table values, Kafka Buffer/string (or arrays). */
export type HeaderCarrier = Record<string, unknown>;

/** The W3C header this library checks before injecting: a carrier that has it is left alone. */
export const TRACEPARENT = 'traceparent';

/** Reads string, Buffer and first-of-array header values (Kafka delivers Buffers). */
export const HEADER_GETTER: TextMapGetter<HeaderCarrier> = {
  get(carrier, key) {
    let value = carrier[key];
    if (Array.isArray(value)) value = value[0];
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'string') return value;
    if (Buffer.isBuffer(value)) return value.toString('utf8');
    return undefined;
  },
  keys(carrier) {
    return Object.keys(carrier);
  },
};

export const HEADER_SETTER: TextMapSetter<HeaderCarrier> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

/** True when the headers already carry a trace context (set by the caller or an instrumentation). */
export function hasTraceparent(headers: HeaderCarrier | undefined): boolean {
  return headers !== undefined && headers[TRACEPARENT] !== undefined;
}

import { describe, expect, it } from 'vitest';
import { HEADER_GETTER, hasTraceparent, isInstrumented } from '../../../lib/telemetry/index.js';

describe('tracing primitives', () => {
  it('reads trace headers as AMQP and Kafka deliver them (string, Buffer, array)', () => {
    const carrier = {
      a: 'text',
      b: Buffer.from('bytes'),
      c: [Buffer.from('first'), 'second'],
      d: 42,
    };
    expect(HEADER_GETTER.get(carrier, 'a')).toBe('text');
    expect(HEADER_GETTER.get(carrier, 'b')).toBe('bytes');
    expect(HEADER_GETTER.get(carrier, 'c')).toBe('first');
    expect(HEADER_GETTER.get(carrier, 'd')).toBeUndefined();
    expect(HEADER_GETTER.get(carrier, 'missing')).toBeUndefined();
    expect(HEADER_GETTER.keys(carrier)).toEqual(['a', 'b', 'c', 'd']);
  });

  it('a carrier with traceparent is left alone', () => {
    expect(hasTraceparent(undefined)).toBe(false);
    expect(hasTraceparent({})).toBe(false);
    expect(hasTraceparent({ traceparent: '00-…' })).toBe(true);
  });

  it('recognises a client method wrapped by an OpenTelemetry instrumentation (shimmer marks it)', () => {
    const plain = (): void => undefined;
    const wrapped = Object.assign((): void => undefined, { __wrapped: true });
    expect(isInstrumented(plain)).toBe(false);
    expect(isInstrumented(wrapped)).toBe(true);
    expect(isInstrumented(undefined)).toBe(false);
  });
});

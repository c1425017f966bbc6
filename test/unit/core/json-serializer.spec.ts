import { describe, expect, it } from 'vitest';

import { PayloadDeserializationError } from '../../../lib/core/errors/payload-deserialization.error.js';
import { NonRetriableError } from '../../../lib/core/errors/non-retriable.error.js';
import { JSON_SERIALIZER } from '../../../lib/core/json-serializer.js';

describe('JSON_SERIALIZER', () => {
  it('writes JSON with its content type, and a Buffer as it is', () => {
    expect(JSON_SERIALIZER.serialize({ id: 1 })).toEqual({
      content: Buffer.from('{"id":1}'),
      contentType: 'application/json',
    });
    const bytes = Buffer.from([0, 1, 2]);
    expect(JSON_SERIALIZER.serialize(bytes)).toEqual({
      content: bytes,
      contentType: 'application/octet-stream',
    });
    expect(JSON_SERIALIZER.serialize(undefined).content.toString()).toBe('null');
  });

  it('reads JSON types strictly, text as a string, unknown types as a Buffer', () => {
    const json = Buffer.from('{"a":[1,2]}');
    expect(JSON_SERIALIZER.deserialize(json, 'application/json')).toEqual({ a: [1, 2] });
    expect(
      JSON_SERIALIZER.deserialize(json, 'application/cloudevents+json; charset=utf-8'),
    ).toEqual({
      a: [1, 2],
    });
    expect(JSON_SERIALIZER.deserialize(Buffer.from('hi'), 'text/plain')).toBe('hi');
    const other = JSON_SERIALIZER.deserialize(json, 'application/x-protobuf');
    expect(Buffer.isBuffer(other)).toBe(true);
  });

  it('parses a message without a content type when it is JSON, and keeps the bytes when not', () => {
    expect(JSON_SERIALIZER.deserialize(Buffer.from('[1]'), undefined)).toEqual([1]);
    const raw = JSON_SERIALIZER.deserialize(Buffer.from('not json'), undefined);
    expect(Buffer.isBuffer(raw)).toBe(true);
  });

  it('rejects a body that is not what its JSON content type says, as non-retriable', () => {
    let thrown: unknown;
    try {
      JSON_SERIALIZER.deserialize(Buffer.from('{oops'), 'application/json');
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PayloadDeserializationError);
    expect(thrown).toBeInstanceOf(NonRetriableError);
    expect((thrown as PayloadDeserializationError).code).toBe('MQ_PAYLOAD_UNDECODABLE');
  });
});

import { describe, expect, it } from 'vitest';
import { PayloadDeserializationError } from '../../../lib/core/errors/payload-deserialization.error.js';
import { JSON_SERIALIZER } from '../../../lib/core/json-serializer.js';
import { RpcRemoteError } from '../../../lib/rabbitmq/errors/rpc-remote.error.js';
import {
  decodeReply,
  errorReply,
  okReply,
  RPC_STATUS_HEADER,
  type EncodedReply,
} from '../../../lib/rabbitmq/rpc-reply.js';

/** What the client receives for an encoded reply. */
const roundTrip = (reply: EncodedReply) =>
  decodeReply(
    reply.content,
    { contentType: reply.contentType, headers: { [RPC_STATUS_HEADER]: reply.status } },
    JSON_SERIALIZER,
  );

describe('RPC reply encoding', () => {
  it('an ok reply carries the return value through the serializer', () => {
    const reply = okReply({ id: 7, items: ['a'] }, JSON_SERIALIZER);
    expect(reply).toMatchObject({ status: 'ok', contentType: 'application/json' });
    expect(roundTrip(reply)).toEqual({ ok: true, value: { id: 7, items: ['a'] } });
    expect(roundTrip(okReply(undefined, JSON_SERIALIZER))).toEqual({ ok: true, value: null });
  });

  it("an error reply carries the error's message and code only", () => {
    const error = Object.assign(new Error('order not found'), {
      code: 'ORDER_NOT_FOUND',
      password: 'hunter2',
      details: { internal: true },
    });
    const reply = errorReply(error);
    expect(reply.status).toBe('error');
    expect(JSON.parse(reply.content.toString())).toEqual({
      message: 'order not found',
      code: 'ORDER_NOT_FOUND',
    });
    const decoded = roundTrip(reply);
    expect(decoded.ok).toBe(false);
    const remote = (decoded as { error: RpcRemoteError }).error;
    expect(remote).toBeInstanceOf(RpcRemoteError);
    expect(remote).toMatchObject({
      remoteMessage: 'order not found',
      remoteCode: 'ORDER_NOT_FOUND',
    });
    expect(remote.message).toBe('The RPC handler failed: order not found (ORDER_NOT_FOUND)');
  });

  it('a numeric code travels as a string; other codes and non-Error throws do not travel', () => {
    expect(
      JSON.parse(errorReply(Object.assign(new Error('x'), { code: 404 })).content.toString()),
    ).toEqual({ message: 'x', code: '404' });
    expect(
      JSON.parse(errorReply(Object.assign(new Error('x'), { code: { a: 1 } })).content.toString()),
    ).toEqual({ message: 'x' });
    for (const thrown of ['a string', { message: 'object with message' }, 42, undefined]) {
      expect(JSON.parse(errorReply(thrown).content.toString())).toEqual({
        message: 'RPC handler failed',
      });
    }
  });

  it('a reply without the status header (a server that knows nothing of this library) is an ok reply', () => {
    expect(
      decodeReply(
        Buffer.from('{"a":1}'),
        { contentType: 'application/json', headers: {} },
        JSON_SERIALIZER,
      ),
    ).toEqual({ ok: true, value: { a: 1 } });
    expect(
      decodeReply(
        Buffer.from('"x"'),
        { contentType: undefined, headers: undefined },
        JSON_SERIALIZER,
      ),
    ).toEqual({
      ok: true,
      value: 'x',
    });
  });

  it('a malformed error body is still an error reply, with the generic message', () => {
    const decoded = decodeReply(
      Buffer.from('<html>'),
      { contentType: 'text/html', headers: { [RPC_STATUS_HEADER]: 'error' } },
      JSON_SERIALIZER,
    );
    expect(decoded).toMatchObject({ ok: false, error: { remoteMessage: 'RPC handler failed' } });
  });

  it('an ok body that does not decode throws the serializer error', () => {
    expect(() =>
      decodeReply(
        Buffer.from('{not json'),
        { contentType: 'application/json', headers: { [RPC_STATUS_HEADER]: 'ok' } },
        JSON_SERIALIZER,
      ),
    ).toThrow(PayloadDeserializationError);
  });
});

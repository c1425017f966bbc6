import { describe, expect, it } from 'vitest';
import { causedClose, isNack } from '../../../lib/rabbitmq/lane-channel.js';
import { encodeMessage } from '../../../lib/rabbitmq/publish-message.js';

describe('encodeMessage', () => {
  it('passes a Buffer through untouched, persistent, with a generated messageId', () => {
    const body = Buffer.from('raw');
    const e = encodeMessage(body, undefined);
    expect(e.body).toBe(body);
    expect(e.options).toEqual({ messageId: e.messageId, persistent: true });
    expect(e.messageId).toMatch(/^mqp\.[\w-]{12}\.[0-9a-z]+$/);
  });

  it('encodes strings as UTF-8 text and objects as JSON, with content types a caller can override', () => {
    expect(encodeMessage('é', undefined)).toMatchObject({
      body: Buffer.from('é'),
      options: { contentType: 'text/plain; charset=utf-8' },
    });
    expect(encodeMessage({ a: [1] }, undefined)).toMatchObject({
      body: Buffer.from('{"a":[1]}'),
      options: { contentType: 'application/json' },
    });
    expect(
      encodeMessage({ a: 1 }, { contentType: 'application/vnd.x+json' }).options.contentType,
    ).toBe('application/vnd.x+json');
    expect(encodeMessage(new Uint8Array([1, 2]), undefined).body).toEqual(Buffer.from([1, 2]));
  });

  it('keeps a caller messageId, never mutates the caller options, and drops library-only keys', () => {
    const options = {
      messageId: 'm-1',
      persistent: false,
      timeoutMs: 5,
      signal: new AbortController().signal,
      headers: { a: 1 },
    };
    const e = encodeMessage('x', options);
    expect(e.messageId).toBe('m-1');
    expect(e.options).toEqual({
      messageId: 'm-1',
      persistent: false,
      headers: { a: 1 },
      contentType: 'text/plain; charset=utf-8',
    });
    expect(options).not.toHaveProperty('contentType');
    expect(encodeMessage('x', { deliveryMode: 1 }).options.persistent).toBeUndefined();
  });

  it('throws TypeError for content JSON cannot carry', () => {
    expect(() => encodeMessage(undefined as unknown as object, undefined)).toThrow(TypeError);
    expect(() => encodeMessage({ n: 1n }, undefined)).toThrow(TypeError);
  });

  it('generates distinct ids', () => {
    const ids = new Set(
      Array.from({ length: 1000 }, () => encodeMessage('x', undefined).messageId),
    );
    expect(ids.size).toBe(1000);
  });
});

describe('confirm classification', () => {
  it('recognises amqplib nacks', () => {
    expect(isNack(new Error('message nacked'))).toBe(true);
    expect(isNack(new Error('channel closed'))).toBe(false);
  });

  it('tells the publish that made the broker close the channel from its innocent siblings', () => {
    const to = (exchange: string, size = 10) => ({ exchange, body: Buffer.alloc(size) });
    const notFound = Object.assign(
      new Error(
        `Channel closed by server: 404 (NOT-FOUND) with message "NOT_FOUND - no exchange 'orders.x' in vhost '/'"`,
      ),
      {
        code: 404,
        classId: 60,
        methodId: 40,
      },
    );
    expect(causedClose(notFound, to('orders.x'))).toBe(true);
    expect(causedClose(notFound, to('orders'))).toBe(false);
    const internal = Object.assign(
      new Error(
        `403 (ACCESS-REFUSED) with message "ACCESS_REFUSED - cannot publish to internal exchange 'int'"`,
      ),
      {
        code: 403,
        classId: 60,
        methodId: 40,
      },
    );
    expect(causedClose(internal, to('int'))).toBe(true);
    const tooBig = Object.assign(
      new Error(
        `Channel closed by server: 406 (PRECONDITION-FAILED) with message "PRECONDITION_FAILED - message size 2097152 is larger than configured max size 1048576"`,
      ),
      { code: 406, classId: 60, methodId: 40 },
    );
    expect(causedClose(tooBig, to('', 2_097_152))).toBe(true);
    expect(causedClose(tooBig, to('', 256))).toBe(false);
    // A close caused by another method (e.g. queue.declare) blames no publish.
    expect(
      causedClose(
        Object.assign(new Error(`no exchange 'e'`), { classId: 50, methodId: 10 }),
        to('e'),
      ),
    ).toBeUndefined();
    expect(causedClose(undefined, to('e'))).toBeUndefined();
    expect(causedClose(new Error('Connection closed'), to('e'))).toBeUndefined();
  });
});

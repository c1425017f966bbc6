import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../../lib/core/redact-url.js';

describe('redactUrl', () => {
  it('hides the user and the password of an AMQP URL but keeps host, port and vhost', () => {
    const out = redactUrl('amqp://admin:s3cr3t@broker.example:5672/orders');
    expect(out).toBe('amqp://***@broker.example:5672/orders');
    expect(out).not.toContain('s3cr3t');
    expect(out).not.toContain('admin');
  });

  it('leaves a URL without credentials as it is', () => {
    expect(redactUrl('amqps://broker.example:5671')).toBe('amqps://broker.example:5671');
  });

  it('replaces an unparsable string wholesale, since it may itself hold the secret', () => {
    expect(redactUrl('not a url with p4ss')).toBe('<unparsable url>');
  });

  it('keeps only the protocol of a URL without "//", whose path may hold user and password', () => {
    expect(redactUrl('guest:s3cr3t@broker:5672')).toBe('guest:<redacted>');
    expect(redactUrl('amqp:guest:s3cr3t@broker')).toBe('amqp:<redacted>');
  });
});

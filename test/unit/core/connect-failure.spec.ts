import { describe, expect, it } from 'vitest';
import { describeConnectFailure } from '../../../lib/core/connect-failure.js';

const coded = (code: string, message = code): Error => Object.assign(new Error(message), { code });

describe('describeConnectFailure', () => {
  it('names transient socket and DNS failures in words, with the code', () => {
    expect(describeConnectFailure(coded('ECONNREFUSED'))).toEqual({
      words: 'connection refused: nothing listens at that address (ECONNREFUSED)',
      permanent: false,
    });
    expect(describeConnectFailure(coded('ENOTFOUND')).words).toMatch(
      /^DNS lookup failed: host not found/,
    );
    expect(describeConnectFailure(coded('EAI_AGAIN')).permanent).toBe(false);
    expect(describeConnectFailure(new Error('connect timed out after 5000ms'))).toEqual({
      words: 'timed out',
      permanent: false,
    });
  });

  it('treats certificate verification and non-TLS peers as permanent TLS failures', () => {
    expect(describeConnectFailure(coded('DEPTH_ZERO_SELF_SIGNED_CERT'))).toEqual({
      words: 'TLS certificate verification failed (DEPTH_ZERO_SELF_SIGNED_CERT)',
      permanent: true,
      kind: 'tls',
    });
    expect(describeConnectFailure(coded('ERR_TLS_CERT_ALTNAME_INVALID')).kind).toBe('tls');
    expect(describeConnectFailure(coded('ERR_SSL_WRONG_VERSION_NUMBER'))).toMatchObject({
      permanent: true,
      kind: 'tls',
    });
  });

  it('finds the code along the cause chain (client libraries wrap socket errors)', () => {
    const wrapped = new Error('Connection error', { cause: coded('SELF_SIGNED_CERT_IN_CHAIN') });
    expect(describeConnectFailure(wrapped).kind).toBe('tls');
  });

  it('falls back to the message for anything else', () => {
    expect(describeConnectFailure(new Error('weird'))).toEqual({
      words: 'weird',
      permanent: false,
    });
    expect(describeConnectFailure(undefined)).toEqual({ words: 'unknown error', permanent: false });
  });
});

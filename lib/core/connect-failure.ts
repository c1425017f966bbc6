/**
 * Why a connection attempt failed, in words a user can act on, and whether retrying can help.
 *
 * Broker-neutral: Node's socket, DNS and TLS error codes. The adapters recognise their protocol's
 * own refusals (AMQP 403/530, Kafka SASL) first and fall back to this.
 */
export interface ConnectFailure {
  /** e.g. "connection refused (ECONNREFUSED)". */
  readonly words: string;
  /** Retrying cannot succeed without a configuration change (e.g. certificate verification). */
  readonly permanent: boolean;
  /** Which class of permanent failure (undefined when transient). */
  readonly kind?: 'tls';
}

/** Node/OpenSSL codes of a server certificate that does not verify: only a config change helps. */
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

const TRANSIENT_WORDS: Record<string, string> = {
  ECONNREFUSED: 'connection refused: nothing listens at that address',
  ECONNRESET: 'connection reset by the peer',
  ETIMEDOUT: 'timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed by the peer',
  ENOTFOUND: 'DNS lookup failed: host not found',
  EAI_AGAIN: 'DNS lookup failed temporarily',
};

/** Classifies a connect error by the first Node error code found along its `cause` chain. */
export function describeConnectFailure(error: unknown): ConnectFailure {
  const code = findErrorCode(error);
  if (code !== undefined) {
    if (CERTIFICATE_CODES.has(code))
      return {
        words: `TLS certificate verification failed (${code})`,
        permanent: true,
        kind: 'tls',
      };
    // A TLS handshake with a peer that does not speak TLS (e.g. amqps:// to the plain port).
    if (code.startsWith('ERR_SSL_'))
      return { words: `TLS handshake failed (${code})`, permanent: true, kind: 'tls' };
    const words = TRANSIENT_WORDS[code];
    if (words !== undefined) return { words: `${words} (${code})`, permanent: false };
  }
  if (/timed? ?out/i.test(messageOf(error))) return { words: 'timed out', permanent: false };
  return { words: messageOf(error) || 'unknown error', permanent: false };
}

function findErrorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; depth < 8 && typeof e === 'object' && e !== null; depth++) {
    const { code, cause } = e as { code?: unknown; cause?: unknown };
    if (typeof code === 'string' && code !== '') return code;
    e = cause;
  }
  return undefined;
}

function messageOf(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : '';
}

import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import { isLeakSiteCapture, LEAK_SITE_CAPTURE_FIX } from '../core/pool-options.js';
import { redactUrl } from '../core/redact-url.js';
import { DEFAULT_RABBITMQ_OPTIONS, type ResolvedRabbitMqOptions } from './rabbitmq-options.js';

const PREFIX = 'rabbitmq';

const KNOWN_KEYS = new Set([
  'url',
  'connections',
  'consumerConnections',
  'channelsPerConnection',
  'minChannels',
  'acquireTimeoutMs',
  'maxWaiting',
  'confirmTimeoutMs',
  'heartbeatSeconds',
  'leakDetectionMs',
  'captureLeakSite',
  'idleTimeoutMs',
  'maxLifetimeMs',
  'publishChannels',
  'maxInFlightPerChannel',
  'connectTimeoutMs',
  'reconnect',
  'connectionName',
  'socketOptions',
  'coalesceWrites',
]);
const RECONNECT_KEYS = new Set(['initialDelayMs', 'maxDelayMs']);

/** Validates once, at construction, with messages naming the key and the fix; returns options with defaults. */
export function validateRabbitMqOptions(
  input: unknown,
  poolName = 'default',
): ResolvedRabbitMqOptions {
  const o = asRecord(input, PREFIX, 'an object like { url: "amqp://localhost" }');
  rejectUnknown(o, KNOWN_KEYS, PREFIX);

  const urls = validateUrls(o['url']);
  const d = DEFAULT_RABBITMQ_OPTIONS;
  const connections = int(o, 'connections', d.connections, 1, 64);
  const channelsPerConnection = int(o, 'channelsPerConnection', d.channelsPerConnection, 1, 2047);
  const max = connections * channelsPerConnection;
  const publishChannels = int(o, 'publishChannels', d.publishChannels, 1, max);
  const minChannels = int(o, 'minChannels', d.minChannels, 0, max);

  const reconnectIn =
    o['reconnect'] === undefined
      ? {}
      : asRecord(o['reconnect'], `${PREFIX}.reconnect`, 'an object');
  rejectUnknown(reconnectIn, RECONNECT_KEYS, `${PREFIX}.reconnect`);
  const initialDelayMs = int(
    reconnectIn,
    'initialDelayMs',
    d.reconnect.initialDelayMs,
    1,
    600_000,
    `${PREFIX}.reconnect`,
  );
  const maxDelayMs = int(
    reconnectIn,
    'maxDelayMs',
    d.reconnect.maxDelayMs,
    1,
    3_600_000,
    `${PREFIX}.reconnect`,
  );
  if (maxDelayMs < initialDelayMs) {
    throw new InvalidPoolOptionsError(
      `${PREFIX}.reconnect.maxDelayMs`,
      `${maxDelayMs} is below reconnect.initialDelayMs (${initialDelayMs})`,
      'make maxDelayMs >= initialDelayMs',
    );
  }

  const connectionName = o['connectionName'] ?? `nestjs-mq-pool:${poolName}`;
  if (
    typeof connectionName !== 'string' ||
    connectionName.length === 0 ||
    connectionName.length > 200
  ) {
    throw new InvalidPoolOptionsError(
      `${PREFIX}.connectionName`,
      'must be a non-empty string of at most 200 characters',
      'pass e.g. "orders-service"',
    );
  }

  const socketOptions =
    o['socketOptions'] === undefined
      ? d.socketOptions
      : asRecord(
          o['socketOptions'],
          `${PREFIX}.socketOptions`,
          'an object of amqplib socket options (TLS: ca, cert, key, …)',
        );

  const captureLeakSite = o['captureLeakSite'] ?? d.captureLeakSite;
  if (!isLeakSiteCapture(captureLeakSite)) {
    throw new InvalidPoolOptionsError(
      `${PREFIX}.captureLeakSite`,
      `must be true, false or 'afterFirstLeak', got ${typeof captureLeakSite}`,
      LEAK_SITE_CAPTURE_FIX,
    );
  }
  const coalesceWrites = o['coalesceWrites'] ?? d.coalesceWrites;
  if (typeof coalesceWrites !== 'boolean') {
    throw new InvalidPoolOptionsError(
      `${PREFIX}.coalesceWrites`,
      `must be a boolean, got ${typeof coalesceWrites}`,
      'pass true (default) or false',
    );
  }

  return {
    urls,
    connections,
    consumerConnections: int(o, 'consumerConnections', d.consumerConnections, 0, 64),
    channelsPerConnection,
    minChannels,
    acquireTimeoutMs: int(o, 'acquireTimeoutMs', d.acquireTimeoutMs, 1, 3_600_000),
    maxWaiting: int(o, 'maxWaiting', d.maxWaiting, 0, 1_000_000),
    confirmTimeoutMs: int(o, 'confirmTimeoutMs', d.confirmTimeoutMs, 1, 3_600_000),
    heartbeatSeconds: int(o, 'heartbeatSeconds', d.heartbeatSeconds, 0, 3_600),
    leakDetectionMs: int(o, 'leakDetectionMs', d.leakDetectionMs, 0, 86_400_000),
    captureLeakSite,
    idleTimeoutMs: int(o, 'idleTimeoutMs', d.idleTimeoutMs, 0, 86_400_000),
    maxLifetimeMs: int(o, 'maxLifetimeMs', d.maxLifetimeMs, 0, 604_800_000),
    publishChannels,
    maxInFlightPerChannel: int(o, 'maxInFlightPerChannel', d.maxInFlightPerChannel, 1, 65_535),
    connectTimeoutMs: int(o, 'connectTimeoutMs', d.connectTimeoutMs, 1, 600_000),
    reconnect: { initialDelayMs, maxDelayMs },
    connectionName,
    socketOptions: Object.freeze({ ...socketOptions }),
    coalesceWrites,
  };
}

function validateUrls(value: unknown): string[] {
  const key = `${PREFIX}.url`;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0) {
    throw new InvalidPoolOptionsError(
      key,
      'is required: a URL string or a non-empty array of them',
      'pass e.g. "amqp://user:pass@localhost:5672"',
    );
  }
  return list.map((u: unknown, i) => {
    const k = Array.isArray(value) ? `${key}[${i}]` : key;
    if (typeof u !== 'string' || u.length === 0) {
      throw new InvalidPoolOptionsError(
        k,
        'must be a non-empty string',
        'pass e.g. "amqp://localhost:5672"',
      );
    }
    let parsed: URL;
    try {
      parsed = new URL(u);
    } catch {
      // The raw value may itself hold a secret: never echo it.
      throw new InvalidPoolOptionsError(
        k,
        'is not a parsable URL',
        'use the form amqp://user:pass@host:5672/vhost',
      );
    }
    if (parsed.protocol !== 'amqp:' && parsed.protocol !== 'amqps:') {
      throw new InvalidPoolOptionsError(
        k,
        // Without "//" the user and password sit in the protocol or the path: echo none of it.
        parsed.host
          ? `has protocol "${parsed.protocol}" (${redactUrl(u)})`
          : 'has no amqp:// or amqps:// prefix',
        'use amqp:// or amqps://',
      );
    }
    if (!parsed.hostname) {
      throw new InvalidPoolOptionsError(k, 'has no host', 'use the form amqp://host:5672');
    }
    return u;
  });
}

function int(
  o: Record<string, unknown>,
  name: string,
  fallback: number,
  min: number,
  max: number,
  prefix = PREFIX,
): number {
  const value = o[name];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidPoolOptionsError(
      `${prefix}.${name}`,
      `must be an integer from ${min} to ${max}, got ${describe(value)}`,
      `set it within range or omit it for the default (${fallback})`,
    );
  }
  return value;
}

function asRecord(value: unknown, key: string, expected: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidPoolOptionsError(
      key,
      `must be ${expected}, got ${describe(value)}`,
      `pass ${expected}`,
    );
  }
  return value as Record<string, unknown>;
}

function rejectUnknown(
  o: Record<string, unknown>,
  known: ReadonlySet<string>,
  prefix: string,
): void {
  for (const k of Object.keys(o)) {
    if (!known.has(k)) {
      throw new InvalidPoolOptionsError(
        `${prefix}.${k}`,
        'is not a known option',
        `remove it; known keys: ${[...known].join(', ')}`,
      );
    }
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `a string`;
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : typeof value === 'object' ? 'an object' : String(value);
}

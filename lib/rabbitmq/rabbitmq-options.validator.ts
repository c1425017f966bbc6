import { checkSerializer } from '../core/check-serializer.js';
import { InvalidPoolOptionsError } from '../core/errors/invalid-pool-options.error.js';
import { isLeakSiteCapture, LEAK_SITE_CAPTURE_FIX } from '../core/pool-options.js';
import {
  checkBoolean,
  checkInt,
  checkKnownKeys,
  checkMs,
  checkObject,
} from '../core/option-checks.js';
import { redactUrl } from '../core/redact-url.js';
import { DEFAULT_RABBITMQ_OPTIONS, type ResolvedRabbitMqOptions } from './rabbitmq-options.js';
import { validateTopology } from './topology-options.validator.js';

const PREFIX = 'rabbitmq';

const KNOWN_KEYS = [
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
  'serializer',
  'topology',
  'rpc',
];
const RECONNECT_KEYS = ['initialDelayMs', 'maxDelayMs'];
const RPC_KEYS = ['timeoutMs', 'maxOutstanding'];

/** Validates once, at construction, with messages naming the key and the fix; returns options with defaults. */
export function validateRabbitMqOptions(
  input: unknown,
  poolName = 'default',
): ResolvedRabbitMqOptions {
  const o = checkObject(input, PREFIX, 'an object like { url: "amqp://localhost" }');
  checkKnownKeys(o, PREFIX, KNOWN_KEYS);

  const urls = validateUrls(o['url']);
  const d = DEFAULT_RABBITMQ_OPTIONS;
  const connections = checkInt(o, 'connections', PREFIX, d.connections, 1, 64);
  const channelsPerConnection = checkInt(
    o,
    'channelsPerConnection',
    PREFIX,
    d.channelsPerConnection,
    1,
    2047,
  );
  const max = connections * channelsPerConnection;
  const publishChannels = checkInt(o, 'publishChannels', PREFIX, d.publishChannels, 1, max);
  const minChannels = checkInt(o, 'minChannels', PREFIX, d.minChannels, 0, max);

  const reconnectKey = `${PREFIX}.reconnect`;
  const reconnectIn =
    o['reconnect'] === undefined
      ? {}
      : checkObject(o['reconnect'], reconnectKey, '{ initialDelayMs, maxDelayMs }');
  checkKnownKeys(reconnectIn, reconnectKey, RECONNECT_KEYS);
  const initialDelayMs = checkMs(
    reconnectIn,
    'initialDelayMs',
    reconnectKey,
    d.reconnect.initialDelayMs,
    1,
    600_000,
  );
  const maxDelayMs = checkMs(
    reconnectIn,
    'maxDelayMs',
    reconnectKey,
    d.reconnect.maxDelayMs,
    1,
    3_600_000,
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
      : checkObject(
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
  const coalesceWrites = checkBoolean(o, 'coalesceWrites', PREFIX, d.coalesceWrites);

  return {
    urls,
    connections,
    consumerConnections: checkInt(o, 'consumerConnections', PREFIX, d.consumerConnections, 0, 64),
    channelsPerConnection,
    minChannels,
    acquireTimeoutMs: checkMs(o, 'acquireTimeoutMs', PREFIX, d.acquireTimeoutMs, 1, 3_600_000),
    maxWaiting: checkInt(o, 'maxWaiting', PREFIX, d.maxWaiting, 0, 1_000_000),
    confirmTimeoutMs: checkMs(o, 'confirmTimeoutMs', PREFIX, d.confirmTimeoutMs, 1, 3_600_000),
    heartbeatSeconds: checkInt(o, 'heartbeatSeconds', PREFIX, d.heartbeatSeconds, 0, 3_600),
    leakDetectionMs: checkMs(o, 'leakDetectionMs', PREFIX, d.leakDetectionMs, 0, 86_400_000),
    captureLeakSite,
    idleTimeoutMs: checkMs(o, 'idleTimeoutMs', PREFIX, d.idleTimeoutMs, 0, 86_400_000),
    maxLifetimeMs: checkMs(o, 'maxLifetimeMs', PREFIX, d.maxLifetimeMs, 0, 604_800_000),
    publishChannels,
    maxInFlightPerChannel: checkInt(
      o,
      'maxInFlightPerChannel',
      PREFIX,
      d.maxInFlightPerChannel,
      1,
      65_535,
    ),
    connectTimeoutMs: checkMs(o, 'connectTimeoutMs', PREFIX, d.connectTimeoutMs, 1, 600_000),
    reconnect: { initialDelayMs, maxDelayMs },
    connectionName,
    socketOptions: Object.freeze({ ...socketOptions }),
    coalesceWrites,
    serializer: checkSerializer(o, PREFIX),
    topology: validateTopology(o['topology'], `${PREFIX}.topology`),
    rpc: validateRpc(o['rpc']),
  };
}

function validateRpc(value: unknown): ResolvedRabbitMqOptions['rpc'] {
  const key = `${PREFIX}.rpc`;
  const d = DEFAULT_RABBITMQ_OPTIONS.rpc;
  if (value === undefined) return d;
  const rpc = checkObject(value, key, '{ timeoutMs, maxOutstanding }');
  checkKnownKeys(rpc, key, RPC_KEYS);
  return {
    timeoutMs: checkMs(rpc, 'timeoutMs', key, d.timeoutMs, 1, 3_600_000),
    maxOutstanding: checkInt(rpc, 'maxOutstanding', key, d.maxOutstanding, 1, 1_000_000),
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

import type { MessageSerializer } from '../core/message-serializer.js';
import type { LeakSiteCapture } from '../core/pool-options.js';
import type { RabbitTopology } from './topology-options.js';
import type { ResolvedRabbitTopology } from './topology-options.validator.js';

/** What a user may pass as `rabbitmq: {...}`. Every key is optional except `url`; defaults below. */
export interface RabbitMqPoolOptions {
  /** `amqp://` or `amqps://` URL, or several (cluster nodes tried in turn). May hold credentials: never logged. */
  url: string | string[];
  /** Publisher connections; pool channels are spread over them. */
  connections?: number;
  /** Connections reserved for consumers (0 = consumers share the publisher connections). Separate by default so a
   * memory/disk alarm that blocks publishing connections cannot starve consumer acks. */
  consumerConnections?: number;
  /** Pool channels per publisher connection. The channel pool's max is `connections × channelsPerConnection`. */
  channelsPerConnection?: number;
  /** Pool channels kept open and idle-warm. */
  minChannels?: number;
  /** Deadline of every wait for a channel (acquire, withChannel, publish waiting for capacity). */
  acquireTimeoutMs?: number;
  /** Callers allowed to wait for a channel (and publishes waiting for capacity); beyond it -> PoolExhaustedError at once. */
  maxWaiting?: number;
  /** Deadline of a broker confirm once a publish is written. */
  confirmTimeoutMs?: number;
  /** AMQP heartbeat; a silent broker is detected within 2 × this (1.5 × silence, checked every heartbeat/4). 0 disables (not recommended). */
  heartbeatSeconds?: number;
  /** A lease held longer than this is reported as a leak (warning + metric). 0 = off. */
  leakDetectionMs?: number;
  /**
   * With leak detection on, when acquires record their site (a stack, 2-4 µs each): `'afterFirstLeak'`
   * (default) from the pool's first leak report on, so the next report names the site; `true` always;
   * `false` never. See the core `PoolOptions.captureLeakSite`.
   */
  captureLeakSite?: LeakSiteCapture;
  /** Idle pool channels above `minChannels` are closed after this. */
  idleTimeoutMs?: number;
  /** Pool channels are retired after this age (with jitter). 0 = unlimited. */
  maxLifetimeMs?: number;
  /**
   * Channels that `publish()`/`sendToQueue()` pipeline confirms on, leased long-term from the same pool. With 1
   * (default) publishes reach the broker in call order; with more, concurrent publishes may be reordered.
   */
  publishChannels?: number;
  /** Unconfirmed publishes allowed per publishing channel; more wait (bounded by `maxWaiting`). */
  maxInFlightPerChannel?: number;
  /** Deadline of one connect attempt (TCP + TLS + AMQP handshake). */
  connectTimeoutMs?: number;
  /** Reconnect backoff: full jitter, exponential from `initialDelayMs`, capped at `maxDelayMs`. */
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number };
  /** `connection_name` client property shown by the management UI and `rabbitmqctl`; role and index are appended. */
  connectionName?: string;
  /** Passed to amqplib's `connect` (TLS: `ca`, `cert`, `key`, `passphrase`, `servername`, …). `timeout` is set from `connectTimeoutMs`. */
  socketOptions?: Record<string, unknown>;
  /**
   * Frames written in one event-loop turn leave in one syscall (see write-coalescer.ts): ~9× fewer
   * syscalls and ~10% less client CPU per confirmed publish under concurrency. Default true; false writes each frame as amqplib does.
   */
  coalesceWrites?: boolean;
  /** Payloads of declarative handlers and RPC: JSON_SERIALIZER by default. */
  serializer?: MessageSerializer;
  /**
   * Exchanges, queues and bindings declared by `start()` before it resolves (a conflict with the
   * broker fails it with TopologyMismatchError) and again after every reconnect, before handlers re-attach.
   */
  topology?: RabbitTopology;
  /** `request()` over direct reply-to: the default deadline and the bound on requests awaiting their reply. */
  rpc?: { timeoutMs?: number; maxOutstanding?: number };
}

/** Options after defaults and validation. */
export interface ResolvedRabbitMqOptions {
  urls: readonly string[];
  connections: number;
  consumerConnections: number;
  channelsPerConnection: number;
  minChannels: number;
  acquireTimeoutMs: number;
  maxWaiting: number;
  confirmTimeoutMs: number;
  heartbeatSeconds: number;
  leakDetectionMs: number;
  captureLeakSite: LeakSiteCapture;
  idleTimeoutMs: number;
  maxLifetimeMs: number;
  publishChannels: number;
  maxInFlightPerChannel: number;
  connectTimeoutMs: number;
  reconnect: { initialDelayMs: number; maxDelayMs: number };
  connectionName: string;
  socketOptions: Readonly<Record<string, unknown>>;
  coalesceWrites: boolean;
  serializer: MessageSerializer;
  topology: ResolvedRabbitTopology;
  rpc: { timeoutMs: number; maxOutstanding: number };
}

/**
 * The defaults, in one place (documented in the README).
 * - reconnect.maxDelayMs 1000: with full jitter the wait after a broker comes back averages ~1/3 of the cap,
 *   so a restarted broker is used again well within a second; one connect attempt per ~0.5 s per connection is
 *   not a tight loop.
 * - publishChannels 1 / maxInFlightPerChannel 512: one pipelined channel keeps publishes in call order (AMQP
 *   orders per channel) and measured as fast as several on this broker, where the queue, not the channel, is the
 *   ceiling; raise it for many queues on a many-core broker (un-awaited publishes may then be reordered).
 */
export const DEFAULT_RABBITMQ_OPTIONS: Readonly<
  Omit<ResolvedRabbitMqOptions, 'urls' | 'connectionName' | 'serializer' | 'topology'>
> = Object.freeze({
  connections: 1,
  consumerConnections: 1,
  channelsPerConnection: 16,
  minChannels: 0,
  acquireTimeoutMs: 5_000,
  maxWaiting: 1_000,
  confirmTimeoutMs: 10_000,
  heartbeatSeconds: 10,
  leakDetectionMs: 0,
  captureLeakSite: 'afterFirstLeak',
  idleTimeoutMs: 30_000,
  maxLifetimeMs: 0,
  publishChannels: 1,
  maxInFlightPerChannel: 512,
  connectTimeoutMs: 5_000,
  reconnect: Object.freeze({ initialDelayMs: 100, maxDelayMs: 1_000 }),
  socketOptions: Object.freeze({}),
  coalesceWrites: true,
  rpc: Object.freeze({ timeoutMs: 5_000, maxOutstanding: 1_000 }),
});
